#!/usr/bin/perl

# race-accounts' command parser and reply builder: every command kind,
# every field's rules, malformed messages, and the replies byte for
# byte, never with the hash.  A C unit test that prints its own TAP.

use strict;
use warnings;

use lib 't/lib';
use Race::Test;

my $bin = Race::Test->build . '/t/race_accounts_cmd_test';
-x $bin or die "$bin is missing: run ./build.sh test\n";
exec $bin or die "exec $bin: $!\n";
