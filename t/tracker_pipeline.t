#!/usr/bin/perl

# race-tracker's live path never waits behind MongoDB: with MongoDB down,
# the fixes consumed still reach the riders' states and the ticks, while
# no offset is committed; once it is back every fix is stored once and
# the offsets follow.  A backlog consumed while MongoDB cannot keep up:
# the tracker stops consuming once its batches in flight are full
# (backpressure), says how far behind it is (race_tracker_fix_lag_seconds
# and each tick's lag_ms), spectators get each rider's newest state of a
# batch, not every fix, and MongoDB gets every fix.

use strict;
use warnings;

use lib 't/lib';
use IO::Socket::INET;
use JSON::PP;
use Test::More;
use Time::HiRes qw(sleep time);
use Race::Test;
use Race::Util;
use Race::RESP;
use Race::Worker;
use Race::Engine::FerretDB;

my $t = Race::Test->new;

my $tracker = $t->build . '/workers/race-tracker';
my $produce = $t->build . '/t/kafka_produce';
my $committed = $t->build . '/t/kafka_committed';
my $query = $t->build . '/t/mongo_query';

for ($tracker, $produce, $committed, $query) {
    die "no $_: build it first\n" unless -x $_;
}

my $TOPIC = 'race.fixes';
my $DB = 'ngx_race_t';
my $json = JSON::PP->new->canonical;

sub run { run_tool($t, @_) }

my $redis = $t->redis;
my ($rport) = $redis =~ /:(\d+)$/;
my $kafka = $t->kafka;
my $mongo = $t->ferretdb;

sub start_tracker {
    my ($name, %set) = @_;
    return start_worker($t, $name, [$tracker, tracker_args(
        kafka_brokers => $kafka,
        kafka_topic => $TOPIC,
        kafka_commit_ms => 300,
        mongo_uri => $mongo,
        mongo_db => $DB,
        mongo_timeout_ms => 1000,
        redis_port => $rport,
        metrics_listen => '127.0.0.1:0',
        %set,
    )]);
}

my $produced = 0;
sub produce {
    my (@lines) = @_;
    my ($rc, $out) = run([$produce, $kafka, $TOPIC],
        stdin => join('', map { "$_\n" } @lines));
    is($rc, 0, 'produced ' . @lines . ' messages') or diag($out);
    $produced += @lines;
}

sub committed_total {
    my ($rc, $out) = run([$committed, $kafka, 'trackers', $TOPIC]);
    return -1 if $rc != 0;
    return $out =~ /^total (\d+)$/m ? $1 : -1;
}

my $T0 = 1732400000000;
my %expect;

# one message of one fix; recv is when nginx took it, Unix ms
sub msg {
    my ($race, $rider, $seq, $recv) = @_;
    $expect{"$race:$rider:$seq"} = 1;
    return "$race\t" . $json->encode({ race => $race, rider => $rider,
        recv => $recv, fixes => [{ seq => $seq, t => $T0 + $seq * 1000,
        lat => 45 + $seq / 1000, lon => 7.5 }] });
}

sub count {
    my ($filter) = @_;
    my ($rc, $out) = run([$query, $mongo, $DB, 'fixes', 'count',
        $filter || '{}']);
    return $rc == 0 && $out =~ /^(\d+)$/m ? $1 : -1;
}

sub ids {
    my ($rc, $out) = run([$query, $mongo, $DB, 'fixes', 'ids', '{}']);
    return $rc == 0 ? [sort split /\n/, $out] : ['error'];
}

sub seq_of {
    my ($race, $rider) = @_;
    my $s = rider_state($rport, $race, $rider) || {};
    return $s->{seq} // 0;
}

# the metrics a tracker serves: name => value, of the samples without
# other labels than the worker's
sub metrics_port {
    my ($log) = @_;
    my $port;
    wait_for(sub {
        ($port) = $t->read_file($log)
            =~ /metrics listening on 127\.0\.0\.1:(\d+)/;
        $port;
    }, 30);
    return $port;
}

sub scrape {
    my ($port) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port",
        Timeout => 5) or return {};
    print $s "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";
    local $/;
    my $text = <$s> // '';
    my %v;
    while ($text =~ /^(race_\w+)(?:\{worker="tracker"\})? (\S+)$/mg) {
        $v{$1} = $2 + 0;
    }
    return \%v;
}

# the ticks on the live channels of some races

my $sub = resp_conn($rport);
my @RACES = qw(p1 p2);
resp_send($sub, 'SUBSCRIBE', map { "race:$_:live" } @RACES);
for (@RACES) {
    my $r = resp_read($sub, time + 5);
    die "subscribe failed\n" unless ref $r && $r->[0] eq 'subscribe';
}

# every tick that came, decoded, read until $until says so or $secs pass
my @ticks;
sub ticks_until {
    my ($until, $secs) = @_;
    my $end = time + $secs;
    while (!$until->()) {
        last unless length $sub->{buf} || resp_fill($sub, $end);
        my $r = eval { resp_read($sub, $end) } or last;
        next unless ref $r && $r->[0] eq 'message';
        push @ticks, eval { $json->decode($r->[2]) } || { bad => $r->[2] };
    }
    return $until->();
}

# the newest seq of a rider in the ticks so far
sub ticked {
    my ($race, $rider) = @_;
    my $seq = 0;
    for my $tk (grep { ($_->{race} // '') eq $race } @ticks) {
        for (@{$tk->{riders} || []}) {
            $seq = $_->{seq} if $_->{rider} eq $rider && $_->{seq} > $seq;
        }
    }
    return $seq;
}

###############################################################################
# (a) MongoDB down: the live view goes on, no offset is committed

my $log = start_tracker('tracker', store_batches => 8);
my $mport = metrics_port($log);
ok($mport, 'the tracker serves metrics');

produce(msg('p1', 'a', 1, now_ms()));
ok(wait_for(sub { count() == 1 }), 'the tracker is working');
ok(wait_for(sub { committed_total() == $produced }),
    'and has committed everything');
my $done = $produced;

Race::Engine::FerretDB::stop($t);

# three messages at a time: a batch or a few, of the window's eight
for my $seq (2 .. 4) {
    produce(map { msg('p1', $_, $seq, now_ms()) } qw(a b c));
}

ok(ticks_until(sub { ticked('p1', 'a') == 4 && ticked('p1', 'b') == 4
        && ticked('p1', 'c') == 4 }, 30),
    'with MongoDB down, spectators get the newest fixes')
    or diag($json->encode(\@ticks));
is(seq_of('p1', $_), 4, "the state of $_ is the newest fix") for qw(a b c);

ok(wait_for(sub { log_grep($t, $log, qr/was not written, retrying/) }),
    'the tracker says it retries MongoDB');
ok(scrape($mport)->{race_tracker_batches_in_flight} >= 1,
    'with batches in flight');
is(committed_total(), $done, 'no offset is committed meanwhile');
ok($t->running('tracker'), 'the tracker keeps running');

is($t->ferretdb, $mongo, 'MongoDB is back');

ok(wait_for(sub { count() == keys %expect }, 90),
    'every fix of the outage is in MongoDB')
    or diag(count() . ' of ' . keys %expect);
is_deeply(ids(), [sort keys %expect], 'each once');
ok(wait_for(sub { committed_total() == $produced }),
    'then the offsets are committed');
ok(wait_for(sub { scrape($mport)->{race_tracker_batches_in_flight} == 0 }),
    'nothing is in flight');

is($t->stop('tracker'), 0, 'TERM: exit code 0');

###############################################################################
# (b) a backlog while MongoDB cannot keep up: backpressure, the lag said,
# the newest state per rider and batch live, every fix stored

Race::Engine::FerretDB::stop($t);

# 20 riders, 40 fixes each, received by nginx 30 s ago: the tracker is
# that far behind when it takes them up
my $NR = 20;
my $NS = 40;
my $recv = now_ms() - 30_000;
my @backlog;
for my $seq (1 .. $NS) {
    push @backlog, msg('p2', "x$_", $seq, $recv + $seq) for 1 .. $NR;
}
produce(@backlog);

@ticks = ();
$log = start_tracker('tracker', store_batches => 2, batch_max => 100);
$mport = metrics_port($log);

# two batches of 100 messages in flight, and no more consumed
ok(wait_for(sub { scrape($mport)->{race_tracker_batches_in_flight} == 2 },
    60), 'two batches in flight, MongoDB being down');
my $m = scrape($mport);
ok($m->{race_tracker_fix_lag_seconds} >= 25,
    "the lag says the live view is behind ($m->{race_tracker_fix_lag_seconds}"
    . ' s)');
ok($m->{race_worker_messages_consumed_total} <= 2 * 100,
    "the tracker stops consuming ($m->{race_worker_messages_consumed_total} of "
    . @backlog . ')');
ok(ticks_until(sub { ticked('p2', 'x1') > 0 }, 30),
    'the batches consumed are live meanwhile');

is($t->ferretdb, $mongo, 'MongoDB is back');

ok(ticks_until(sub {
        !grep { ticked('p2', "x$_") != $NS } 1 .. $NR }, 90),
    'spectators get every rider\'s newest fix');
ok(wait_for(sub { count('{"race":"p2"}') == $NR * $NS }, 90),
    'MongoDB has every fix of the backlog')
    or diag(count('{"race":"p2"}') . ' of ' . $NR * $NS);
is_deeply(ids(), [sort keys %expect], 'each once');
ok(wait_for(sub { committed_total() == $produced }),
    'and the offsets are committed');

# a batch is 100 messages at most, 5 fixes per rider: a spectator sees
# the newest of a rider in a batch (and in a tick), never each fix
my (%seen, @bad, @lags);
for my $tk (grep { ($_->{race} // '') eq 'p2' } @ticks) {
    push @lags, $tk->{lag_ms};
    for (@{$tk->{riders} || []}) {
        push @bad, "$_->{rider} twice in a tick" if $seen{$_->{rider}}{tk}
            && $seen{$_->{rider}}{tk} == $tk;
        $seen{$_->{rider}}{tk} = $tk;
        $seen{$_->{rider}}{n}++;
    }
}
ok(!@bad, 'a rider is in a tick once') or diag(join "\n", @bad);
my @many = grep { $seen{$_}{n} >= $NS } keys %seen;
ok(!@many, 'spectators get at most the newest state per rider and batch')
    or diag(join ', ', map { "$_: $seen{$_}{n}" } @many);
ok(@lags && !grep({ !defined $_ || $_ < 25_000 } @lags),
    'every tick of the backlog says how late it is (lag_ms)')
    or diag("@lags");

# a fresh fix: the tracker is not behind any more
produce(msg('p2', 'x1', $NS + 1, now_ms()));
ok(wait_for(sub { seq_of('p2', 'x1') == $NS + 1 }), 'a fresh fix is live');
ok(wait_for(sub {
        my $lag = scrape($mport)->{race_tracker_fix_lag_seconds};
        defined $lag && $lag < 5 }),
    'the lag is back near 0')
    or diag(scrape($mport)->{race_tracker_fix_lag_seconds});
ok(ticks_until(sub {
        grep { ($_->{race} // '') eq 'p2' && defined $_->{lag_ms}
            && $_->{lag_ms} < 5000 } @ticks }, 30),
    'and so is a tick\'s lag_ms');

is($t->stop('tracker'), 0, 'TERM: exit code 0');

$t->done;
