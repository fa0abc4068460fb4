#!/usr/bin/perl

# libFuzzer over the WebSocket frame parser for a bounded time
# (RACE_FUZZ_SECONDS, 60 by default), from the seed corpus in the repo.

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use Race::Test;

my $t = Race::Test->new;
my $bin = $t->build . '/t/ws_frame_fuzz';
-x $bin or die "$bin is missing: run ./build.sh test\n";

my $secs = $ENV{RACE_FUZZ_SECONDS} || 60;
my $corpus = $t->dir . '/corpus';
mkdir $corpus;
system('cp', $_, "$corpus/") for glob($t->root . '/t/fuzz/corpus/ws_frame/*');

my $out = `$bin -max_total_time=$secs -rss_limit_mb=1024 -timeout=10 \\
    -artifact_prefix=$corpus/ $corpus 2>&1`;
my $rc = $? >> 8;

ok($rc == 0, "fuzzed the frame parser for $secs s") or diag($out);
my ($runs) = $out =~ /Done (\d+) runs/;
ok($runs && $runs > 1000, 'fuzzer ran ' . ($runs || 0) . ' inputs');

done_testing();
