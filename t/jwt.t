#!/usr/bin/perl

# The HS256 JWT core's C unit tests; the program prints its own TAP.

use strict;
use warnings;

use lib 't/lib';
use Race::Test;

my $bin = Race::Test->build . '/t/jwt_test';
-x $bin or die "$bin is missing: run ./build.sh test\n";
exec $bin or die "exec $bin: $!\n";
