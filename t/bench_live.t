#!/usr/bin/perl

# ./build.sh bench live, tiny: t/bench/live.pl --quick runs the fan-out
# benchmark end to end against our nginx and Nchan's (a few spectators,
# a second a step).  At every step, every spectator of both ends with
# every rider's state of the last tick, and none gets a frame out of
# order or twice, or is closed.  Ours may merge ticks that wait into
# one frame (docs/INTERNALS.md, "Redis"), so that every tick comes as a
# frame of its own is asserted for Nchan only.  Its figures are not
# asserted: the benchmark measures, this checks what is received.

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use Race::Test;

my $NCHAN = '/usr/lib/nginx/modules/ngx_nchan_module.so';

# ./build.sh test installs it; nothing is skipped in CI
unless (-e $NCHAN) {
    BAIL_OUT("$NCHAN missing (libnginx-mod-nchan, ./build.sh test "
        . "installs it)") if $ENV{CI};
    plan skip_all => "$NCHAN missing (libnginx-mod-nchan, ./build.sh deps)";
}

my $t = Race::Test->new;
my $dir = $t->dir . '/bench';

# bounded by live.pl's own deadlines; timeout(1) in case they fail
my @cmd = ('timeout', 600, $^X, 't/bench/live.pl', '--quick', '--dir', $dir);
my $out = `@cmd 2>&1`;

is($? >> 8, 0, 'live.pl --quick ran to its end') or diag($out);

my (%steps, %connected, %idle);

for (split /\n/, $out) {
    my ($kind, $rest) = /^\s*(step|connected|idle) (.*)$/ or next;
    my %kv = $rest =~ /(\w+)=(\S+)/g;
    if ($kind eq 'step') {
        push @{$steps{$kv{label}}}, \%kv;
    } elsif ($kind eq 'connected') {
        $connected{$kv{label}} = \%kv;
    } else {
        $idle{$kv{label}} = \%kv;
    }
}

for my $server (qw(ours nchan)) {
    for my $s (qw(a b c)) {
        my $label = "$s/$server";
        my $c = $connected{$label};
        ok($c && $c->{spectators} > 0 && $c->{ready} == $c->{spectators},
            "$label: every spectator connected and ready");

        my @st = @{$steps{$label} || []};
        ok(@st && $st[0]{expected} > 0, "$label: a step ran")
            or next;

        for my $st (@st) {
            my $at = "$label at $st->{rate}/s";
            is($st->{final_missing}, 0,
                "$at: every spectator has the last tick's state");
            is($st->{covered}, $st->{expected},
                "$at: every spectator's seq reached the last tick");
            is($st->{lost}, 0, "$at: no tick lost (merged: $st->{merged})");
            is($st->{reordered} + $st->{dup} + $st->{closed}, 0,
                "$at: none out of order, twice or closed");
            is($st->{pub_errors}, 0, "$at: every publish accepted");
        }

        is($st[0]{frames}, $st[0]{expected},
            "$label: every tick came as a frame of its own")
            if $server eq 'nchan';
    }

    my $i = $idle{"d/$server"};
    ok($i && $i->{open} > 0 && $i->{open} == $i->{spectators},
        "d/$server: idle spectators held open");
    ok($i && $i->{rss_after_kb} > 0, "d/$server: the workers' RSS read");
}

like($out, qr/^scenario\s+ours\s+nchan\s+ours\/nchan$/m,
    'the table compares ours with Nchan');
like($out, qr/^bench_live a_\S+_clean_frames_s\S* ours=\d+ nchan=\d+$/m,
    'clean frames/s for both servers');

# each server's logs: no alert, no sanitizer report
$t->log_file("$dir/$_/error.log") for qw(ours nchan);
$t->log_file("$dir/$_.out") for qw(ours nchan);

my @reports = glob("$dir/*.asan.*");
ok(!@reports, 'no sanitizer reports from the bench')
    or diag(join "\n", map { $t->read_file($_) } @reports);

$t->done;
