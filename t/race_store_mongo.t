#!/usr/bin/perl

# The workers' MongoDB store keeps its bson_t where libbson wants them
# (128-byte aligned): C unit tests that print their own TAP, stopped by
# UBSan at its first report.

use strict;
use warnings;

use lib 't/lib';
use Race::Test;

my $bin = Race::Test->build . '/t/race_store_mongo_test';
-x $bin or die "$bin is missing: run ./build.sh test\n";
exec $bin or die "exec $bin: $!\n";
