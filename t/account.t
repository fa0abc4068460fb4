#!/usr/bin/perl

# The accounts core's C unit tests: emails, names, roles, user ids and
# the signup, login and role bodies; the program prints its own TAP.

use strict;
use warnings;

use lib 't/lib';
use Race::Test;

my $bin = Race::Test->build . '/t/account_test';
-x $bin or die "$bin is missing: run ./build.sh test\n";
exec $bin or die "exec $bin: $!\n";
