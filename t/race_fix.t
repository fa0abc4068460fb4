#!/usr/bin/perl

# The workers' Kafka message parser, fix _id and number formatter, and
# the module's writer read back by it: C unit tests that print their own
# TAP.

use strict;
use warnings;

use lib 't/lib';
use Race::Test;

my $bin = Race::Test->build . '/t/race_fix_test';
-x $bin or die "$bin is missing: run ./build.sh test\n";
exec $bin or die "exec $bin: $!\n";
