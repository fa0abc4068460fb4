#!/usr/bin/perl

# The C unit tests of the fix parser and the Kafka message writer; the
# program prints its own TAP.

use strict;
use warnings;

use lib 't/lib';
use Race::Test;

my $bin = Race::Test->build . '/t/fix_test';
-x $bin or die "$bin is missing: run ./build.sh test\n";
exec $bin or die "exec $bin: $!\n";
