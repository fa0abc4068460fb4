#!/usr/bin/perl

# Every libFuzzer target for a bounded time each (RACE_FUZZ_SECONDS, 15
# by default), from its seed corpus in the repo: the WebSocket frame
# parser, the JWT core, the fix parser and Kafka writer, the workers'
# Kafka message parser and settings parser, the accounts core (emails,
# names, request bodies), the password core's common-password list and
# policy, race-accounts' command parser and reply builder, and the
# course core (GPX and GeoJSON files, the compact JSON).  Any
# crash, failed invariant or sanitizer report fails the test.

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use Race::Test;

# t/fuzz/NAME_fuzz.c, seeded from t/fuzz/corpus/NAME: core_* fuzz a pure
# core (core/race_*.c), workers_* the workers' own code
my %corpus = map { m{([^/]+)_fuzz\.c$} ? ("${1}_fuzz" => $1) : () }
             glob(Race::Test->root . '/t/fuzz/*_fuzz.c');

my $t = Race::Test->new;
my $secs = $ENV{RACE_FUZZ_SECONDS} || 15;

for my $target (sort keys %corpus) {
    my $bin = $t->build . "/t/$target";
    -x $bin or die "$bin is missing: run ./build.sh test\n";

    my $corpus = $t->dir . "/corpus-$corpus{$target}";
    mkdir $corpus or die "mkdir $corpus: $!\n";
    system('cp', $_, "$corpus/")
        for glob($t->root . "/t/fuzz/corpus/$corpus{$target}/*");

    my $out = `$bin -max_total_time=$secs -rss_limit_mb=1024 -timeout=10 \\
        -artifact_prefix=$corpus/ $corpus 2>&1`;
    my $rc = $? >> 8;

    ok($rc == 0 && $out !~ /runtime error|Sanitizer/,
        "$target: fuzzed for $secs s") or diag($out);
    my ($runs) = $out =~ /Done (\d+) runs/;
    ok($runs && $runs > 1000, "$target: ran " . ($runs || 0) . ' inputs');
}

done_testing();
