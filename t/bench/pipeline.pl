#!/usr/bin/perl

# The live pipeline's benchmark: the release build, real Redis, Kafka,
# FerretDB and race-tracker on loopback, race-sim playing RACES x RIDERS
# phones at a fix a second for SECONDS, and a spectator on every race.
# Prints figures; asserts nothing.  Bounded: it stops by itself.
#
#   t/bench/pipeline.pl [RACES [RIDERS [SECONDS]]]     (20 50 30)

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";

use Time::HiRes qw(time sleep);
use Race::Test;
use Race::Platform;

my ($races, $riders, $secs) = (@ARGV, 20, 50, 30)[0 .. 2];

my $t = Race::Test->new;
my $p = Race::Platform->start($t, tick_ms => 250, nginx_workers => 2);
my $port = $p->port;

sub workers_rss {
    my $kb = 0;
    for my $pid (split ' ', `pgrep -P ${\ $t->pid('nginx')}`) {
        open my $fh, '<', "/proc/$pid/status" or next;
        while (<$fh>) {
            $kb += $1 if /^VmRSS:\s+(\d+)/;
        }
    }
    return $kb;
}

my $rss0 = workers_rss();

$p->sim_start('spectators',
    (map { ('--watch', "ws://127.0.0.1:$port/live/r$_") } 1 .. $races),
    '--watch-seconds', $secs + 20);

my $start = time;
$p->sim_start('riders', $p->rider_args, '--races', $races,
    '--riders', $riders, '--duration', $secs, '--interval-ms', 1000,
    '--ramp-ms', 1000, '--drain-seconds', 30);

my $peak = 0;
while ($t->running('sim-riders') && time < $start + $secs + 60) {
    my $rss = workers_rss();
    $peak = $rss if $rss > $peak;
    sleep 1;
}

my $r = $p->sim_wait('riders', 10);
my $elapsed = time - $start;
my $w = $p->sim_wait('spectators', $secs + 30);

my $ticks = 0;
$ticks += $_->{ticks} for @{$w->{watches} || []};

my $l = $r->{latency_ms} || {};

printf "pipeline: %d races x %d riders, %d s, 2 nginx workers\n",
    $races, $riders, $secs;
printf "  fixes sent %d, acked %d, unacked %d, reconnects %d\n",
    $r->{sent} || 0, $r->{acked} || 0, $r->{unacked} || 0,
    $r->{reconnects} || 0;
printf "  acks per second %.0f\n", ($r->{acked} || 0) / ($elapsed || 1);
printf "  ack latency ms: p50 %.1f  p95 %.1f  p99 %.1f  max %.1f\n",
    map { $_ || 0 } @$l{qw(p50 p95 p99 max)};
printf "  spectators %d, ticks received %d, out of order %d\n",
    scalar @{$w->{watches} || []}, $ticks, $w->{out_of_order} || 0;
printf "  nginx workers' RSS: %.1f MB idle, %.1f MB peak\n",
    $rss0 / 1024, $peak / 1024;

$t->stop_all;
