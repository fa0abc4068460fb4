#!/usr/bin/perl

# The password core's C unit tests: argon2id hashing and verifying, the
# dummy hash, the policy and the common-password list, the shipped
# conf/common-passwords.txt included; the program prints its own TAP.

use strict;
use warnings;

use lib 't/lib';
use Race::Test;

my $bin = Race::Test->build . '/t/password_test';
-x $bin or die "$bin is missing: run ./build.sh test\n";

# where the program finds conf/common-passwords.txt
$ENV{RACE_ROOT} = Race::Test->root;

exec $bin or die "exec $bin: $!\n";
