#!/usr/bin/perl

# The live pipeline end to end, on real Redis, Kafka and FerretDB:
# phones -> /ride -> Kafka -> race-tracker -> MongoDB + Redis -> /live.
# Three races of fifty riders: every acked fix is stored exactly once,
# and the spectators of each race get that race only, in order.

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use Time::HiRes qw(time sleep);
use Race::Test;
use Race::Platform;
use Race::RESP;
use JSON::PP qw(decode_json);

my $t = Race::Test->new;
my $p = Race::Platform->start($t, tick_ms => 200);
my $port = $p->port;

my ($RACES, $RIDERS, $FIXES) = (3, 50, 20);

# spectators of each race watch from before the start to after the end:
# nginx subscribes to a race's ticks once a spectator of it is there
$p->sim_start('spectators',
    (map { ('--watch', "ws://127.0.0.1:$port/live/r$_") } 1 .. $RACES),
    '--watch-seconds', 900);

sub subscribed {
    my $r = eval { resp_command($p->{redis_port}, 'PUBSUB', 'NUMSUB',
        map { "race:r$_:live" } 1 .. $RACES) };
    my %n = ref $r ? @$r : ();
    return !grep { !$n{"race:r$_:live"} } 1 .. $RACES;
}

my $end = time + 30;
sleep 0.1 until subscribed() || time > $end;
ok(subscribed(), 'the spectators are there before the start');

my $r = $p->sim('--races', $RACES, '--riders', $RIDERS, '--fixes', $FIXES,
    '--interval-ms', 500, '--ramp-ms', 500, '--drain-seconds', 60);

my $all = $RACES * $RIDERS * $FIXES;

is($r->{rc}, 0, 'race-sim: every fix acked') or diag($r->{output});
is($r->{sent}, $all, "phones sent $all fixes");
is($r->{acked}, $all, 'all acked');
is($r->{unacked}, 0, 'none left unacked');
diag("ack latency ms: p50 $r->{latency_ms}{p50}, p95 $r->{latency_ms}{p95}, "
    . "max $r->{latency_ms}{max}") if $r->{latency_ms};

# the worker stores them: wait (bounded) until it caught up
$end = time + 60;
my $count = 0;
while (time < $end) {
    $count = $p->mongo_count;
    last if $count =~ /^\d+$/ && $count >= $all;
    sleep 0.5;
}
is($count, $all, "MongoDB holds $all fixes");

for my $race (1 .. $RACES) {
    is($p->mongo_count(qq{{"race":"r$race"}}), $RIDERS * $FIXES,
        "race r$race: its fixes");
}

# exactly the acked ones, each once: the ids are race:rider:seq
my %want;
for my $rider (@{$r->{riders}}) {
    $want{"$rider->{race}:$rider->{rider}:$_"} = 1 for 1 .. $rider->{last_seq};
}
my @ids = split /\n/, $p->mongo('ids');
my %seen;
my $dups = grep { $seen{$_}++ } @ids;
is($dups, 0, 'no fix stored twice');
is(scalar(grep { !$want{$_} } @ids), 0, 'nothing stored that was not sent');
is(scalar(grep { !$seen{$_} } keys %want), 0, 'every acked fix stored');

# what the spectators saw, once every rider's last fix is in the live
# state, which the tracker ticks at once
sub behind {
    return grep {
        my $v = eval { resp_command($p->{redis_port}, 'HGET',
            "race:$_->{race}:state", $_->{rider}) };
        my $s = defined $v && !ref $v ? eval { decode_json($v) } : undef;
        ($s ? $s->{seq} : 0) < $_->{last_seq};
    } @{$r->{riders} || []};
}

$end = time + 60;
sleep 0.2 while behind() && time < $end;
is(scalar(behind()), 0, 'the live state has every rider\'s last fix');

# TERM: the spectators close and write their report
my $w = $p->sim_wait('spectators', 0.01);
my @watches = @{$w->{watches} || []};
is(scalar @watches, $RACES, 'one spectator per race');

for my $sp (@watches) {
    my $race = $sp->{race};
    ok($sp->{snapshots} >= 1, "$race: a snapshot first")
        and is($sp->{first_not_snapshot}, 0, "$race: nothing before it");
    cmp_ok($sp->{ticks}, '>=', 10, "$race: ticks ($sp->{ticks})");
    is_deeply($sp->{races_seen}, [$race], "$race: only its own race");
    is($sp->{race_mismatch} + $sp->{race_missing}, 0,
        "$race: every message names it");
    is($sp->{riders_seen}, $RIDERS, "$race: saw all $RIDERS riders");
    is($sp->{out_of_order} + $sp->{behind_snapshot}, 0,
        "$race: no rider ever went back in time");
}

# one tick per race per interval, not one per fix: 1000 fixes a race in
# about 10 s at 200 ms ticks is about 50 ticks, far from 1000
for my $sp (@watches) {
    cmp_ok($sp->{ticks}, '<', 400, "$sp->{race}: ticks batch fixes");
}

$t->done;
