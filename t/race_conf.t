#!/usr/bin/perl

# The workers' table-driven settings: defaults, files and --set; C unit
# tests that print their own TAP.

use strict;
use warnings;

use lib 't/lib';
use Race::Test;

my $bin = Race::Test->build . '/t/race_conf_test';
-x $bin or die "$bin is missing: run ./build.sh test\n";
exec $bin or die "exec $bin: $!\n";
