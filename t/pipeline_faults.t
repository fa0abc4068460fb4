#!/usr/bin/perl

# The live pipeline when its parts fail mid-race, on real Redis, Kafka
# and FerretDB: the worker killed and started again, the Kafka broker
# stopped and started, Redis restarted.  Nothing acked is lost, nothing
# is stored twice, phones get no false ack, spectators resume.

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use Time::HiRes qw(time sleep);
use Race::Test;
use Race::Platform;
use Race::Engine::Kafka;
use Race::Engine::Redis;

my $t = Race::Test->new;
my $p = Race::Platform->start($t, tick_ms => 200);
my $port = $p->port;

sub now_ms { int(time * 1000) }

# a ride of $secs in the background, with a spectator of every race
sub ride {
    my ($name, $races, $riders, $secs, @more) = @_;

    $p->sim_start("$name-watch",
        (map { ('--watch', "ws://127.0.0.1:$port/live/$name$_") } 1 .. $races),
        '--watch-seconds', $secs + 40);
    $p->sim_start($name, $p->rider_args, '--race-prefix', $name,
        '--races', $races, '--riders', $riders, '--duration', $secs,
        '--interval-ms', 200, '--drain-seconds', 90, @more);
}

# every acked fix of the run in MongoDB, once; returns how many
sub stored_once {
    my ($name, $r) = @_;

    my %want;
    my $acked = 0;
    for my $rider (@{$r->{riders} || []}) {
        $want{"$rider->{race}:$rider->{rider}:$_"} = 1
            for 1 .. $rider->{acked_max};
        $acked += $rider->{acked};
    }

    my $end = time + 60;
    my @ids;
    while (time < $end) {
        @ids = grep { /^$name\d+:/ } split /\n/, $p->mongo('ids');
        last if @ids >= keys %want;
        sleep 0.5;
    }

    my %seen;
    my $dups = grep { $seen{$_}++ } @ids;
    is($dups, 0, "$name: no fix stored twice");
    is(scalar(grep { !$seen{$_} } keys %want), 0,
        "$name: every acked fix is in MongoDB")
        or diag(scalar(keys %want) . ' acked, ' . scalar(@ids) . ' stored');
    ok($acked > 0, "$name: $acked fixes acked");
}

# a spectator's riders were seen moving after time $ms
sub resumed {
    my ($name, $w, $ms, $what) = @_;

    for my $sp (@{$w->{watches} || []}) {
        my @late = grep { $_->{last_t} > $ms } values %{$sp->{riders}};
        ok(@late > 0, "$sp->{race}: spectator saw riders move after $what");
        is($sp->{out_of_order} + $sp->{behind_snapshot}, 0,
            "$sp->{race}: no rider went back in time");
        is_deeply($sp->{races_seen}, [$sp->{race}], "$sp->{race}: own race");
    }
}


# 1. the worker is killed mid-race (SIGKILL, mid-batch) and started again

ride('kill', 2, 20, 10);
sleep 3;
$p->stop_tracker('KILL');
sleep 2;
$p->start_tracker;
my $restarted = now_ms();

my $r = $p->sim_wait('kill', 150);
is($r->{unacked}, 0, 'worker killed: every fix still acked (Kafka has them)');
stored_once('kill', $r);
resumed('kill', $p->sim_wait('kill-watch', 90), $restarted,
    'the worker restarted');


# 2. the broker stops mid-race: no acks meanwhile, the phones keep their
# fixes; it comes back: they flow and are acked, stored once

ride('broker', 1, 20, 12);
sleep 3;
Race::Engine::Kafka::stop($t);
my $stopped = time;
sleep 5;
$t->kafka;
my $back = now_ms();

$r = $p->sim_wait('broker', 200);
is($r->{unacked}, 0, 'broker outage: everything acked once it is back');
is($r->{rejected}, 0, 'and nothing rejected');
cmp_ok($r->{latency_ms}{max}, '>=', 3000,
    'some acks waited for the broker (no ack while it was down)');
stored_once('broker', $r);
resumed('broker', $p->sim_wait('broker-watch', 90), $back,
    'the broker came back');


# 3. Redis restarts mid-race: spectators keep their sockets and resume

ride('redis', 1, 10, 10);
sleep 3;
Race::Engine::Redis::stop($t);
sleep 1;
$t->redis;
$p->revocations_loaded;
my $redis_back = now_ms();

$r = $p->sim_wait('redis', 150);
is($r->{unacked}, 0, 'Redis restart: riders unaffected');
my $w = $p->sim_wait('redis-watch', 90);
resumed('redis', $w, $redis_back + 1000, 'Redis restarted');
is($w->{watches}[0]{reconnects}, 0, 'the spectator never had to reconnect');

$t->done;
