#!/usr/bin/perl

# /live/{race}: the snapshot from Redis, then ticks; only that race; a
# late tick never moves a rider back; a slow spectator gets the latest
# state instead of a backlog and delays nobody; Redis restarts under a
# running nginx.  Ticks are published straight to Redis here; the
# worker that publishes them in production has tests of its own.

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use IO::Socket::INET;
use JSON::PP;
use POSIX ();
use Time::HiRes qw(time sleep);
use Race::Test;
use Race::RESP qw(resp_encode);
use Race::WS;
use Race::Engine::Redis;

my $t = Race::Test->new;
my $port = $t->port;
my $redis = $t->redis;
my ($rport) = $redis =~ /:(\d+)$/;
my $json = JSON::PP->new->canonical;

$t->nginx(listen => [$port], http => <<"EOF");
    race_redis $redis;

    server {
        # no sndbuf=: race_live_send_buffer's default keeps the backlog
        # in the queue, not the kernel (live_sndbuf.t)
        listen 127.0.0.1:$port;

        location /live/ {
            race_live;
            race_ws_send_queue 256;
        }

        # the same races, for spectators with a short queue
        location /short/live/ {
            race_live;
            race_ws_send_queue 8;
        }
    }
EOF

# many commands down one connection, replies read back
sub redis {
    my (@cmds) = @_;

    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $rport,
        Proto => 'tcp', Timeout => 5) or die "redis: $!\n";
    my $req = '';
    $req .= resp_encode(@$_) for @cmds;
    print $s $req;

    my @replies = map { reply($s) } @cmds;
    close $s;
    return @replies;
}

# one RESP reply as its text, arrays flattened
sub reply {
    my ($s) = @_;
    my $line = <$s>;
    return '' unless defined $line;
    if ($line =~ /^\$(\d+)/) {
        read($s, my $v, $1 + 2);
        return $line . $v;
    }
    if ($line =~ /^\*(\d+)/) {
        return $line . join('', map { reply($s) } 1 .. $1);
    }
    return $line;
}

sub state {
    my ($rider, $t, %more) = @_;
    return $json->encode({ rider => $rider, lat => 45 + $t / 1e6,
        lon => 7.6, t => $t + 0, seq => int($t / 1000), %more });
}

sub tick {
    my ($race, @states) = @_;
    return '{"type":"tick","race":"' . $race . '","t":' . int(time * 1000)
        . ',"riders":[' . join(',', @states) . ']}';
}

sub publish {
    my ($race, @ticks) = @_;
    redis(map { ['PUBLISH', "race:$race:live", $_] } @ticks);
}

sub spectator {
    my ($race, %a) = @_;
    my $prefix = delete $a{prefix} || '';
    return Race::WS->start(port => $port, path => "$prefix/live/$race", %a);
}

sub next_msg {
    my ($ws, $secs) = @_;
    my $f = $ws->read_frame($secs || 5);
    return undef unless ref $f && $f->{opcode} == Race::WS::TEXT;
    return $json->decode($f->{payload});
}

# the rider states of the next message that has one of rider
sub next_state {
    my ($ws, $rider, $secs) = @_;
    my $end = time + ($secs || 5);
    while (time < $end) {
        my $m = next_msg($ws, $end - time) or return undef;
        my ($s) = grep { $_->{rider} eq $rider } @{$m->{riders}};
        return ($s, $m) if $s;
    }
    return undef;
}


# a snapshot of what Redis holds, then ticks

redis(['HSET', 'race:r1:state', 'p1', state('p1', 1000)],
      ['HSET', 'race:r1:state', 'p2', state('p2', 1000)],
      ['HSET', 'race:r2:state', 'p9', state('p9', 1000)]);

my $a = spectator('r1');
my $snap = next_msg($a);
is($snap && $snap->{type}, 'snapshot', 'first message is a snapshot');
is($snap && $snap->{race}, 'r1', 'snapshot names its race');
is(join(',', sort map { $_->{rider} } @{$snap->{riders} || []}), 'p1,p2',
    'snapshot has every rider of the race, and only them');

my $b = spectator('r2');
is((next_msg($b) || {})->{type}, 'snapshot', 'second race: snapshot');

# subscriptions are confirmed before the snapshot is loaded
publish('r1', tick('r1', state('p1', 2000)));
publish('r2', tick('r2', state('p9', 2000)));

my ($s, $m) = next_state($a, 'p1');
is($m && $m->{type}, 'tick', 'a tick follows');
is($s && $s->{t}, 2000, 'with the new state');

($s, $m) = next_state($b, 'p9');
is($s && $s->{t}, 2000, 'the other race gets its own tick');

# a late tick (older t) does not move the rider back, and is not sent
publish('r1', tick('r1', state('p1', 1500)), tick('r1', state('p2', 3000)));
($s, $m) = next_state($a, 'p2');
is($s && $s->{t}, 3000, 'the next tick arrives');
ok(!grep({ $_->{rider} eq 'p1' } @{$m->{riders}}),
    'the late state of p1 was left out');

# the worker restates a fix with new standings (a rank that changed
# without a fix of the rider's): the same t, other members, is sent; the
# same state again is not
publish('r1', tick('r1', state('p1', 2000, rank => 2)),
    tick('r1', state('p1', 2000, rank => 2)),
    tick('r1', state('p2', 3000, rank => 1)));
my @m = map { next_msg($a) || {} } 1 .. 2;
is(join(',', map { "$_->{rider}:" . ($_->{rank} // '') }
    map { @{$_->{riders} || []} } @m), 'p1:2,p2:1',
    'a fix restated with a new rank is sent, once');

# a late spectator gets the merged state from memory
my $c = spectator('r1');
$snap = next_msg($c);
my %t = map { $_->{rider} => $_->{t} } @{$snap->{riders} || []};
is("$t{p1} $t{p2}", '2000 3000', 'a new spectator: snapshot of the latest');

# only its race: nothing of r2 ever reaches r1's spectators
publish('r2', map { tick('r2', state('p9', 3000 + $_)) } 1 .. 20);
publish('r1', tick('r1', state('p1', 9000)));
($s, $m) = next_state($a, 'p1');
is($s && $s->{t}, 9000, 'r1 tick after r2 ticks');
is($m->{race}, 'r1', 'and it is r1\'s');

# ticks that leave merged: the frame's lag_ms is the most of theirs, so
# a late fix is never shown as fresh; twenty ticks in one write, so that
# nginx reads them in one turn
sub lag_tick {
    my ($lag, @states) = @_;
    my $tk = tick('r1', @states);
    $tk =~ s/^\{/{"lag_ms":$lag,/;
    return $tk;
}
publish('r1', lag_tick(5000, state('p1', 20000)),
    map { lag_tick(10, state('p2', 20000 + $_)) } 1 .. 20);
my ($p1lag, $merged, $end_t) = (undef, 0, time + 10);
while (time < $end_t) {
    my $m = next_msg($a, $end_t - time) or last;
    my %in = map { $_->{rider} => $_->{t} } @{$m->{riders} || []};
    $p1lag = $m->{lag_ms} if ($in{p1} // 0) == 20000;
    $merged = 1 if ($in{p1} // 0) == 20000 && $in{p2};
    last if ($in{p2} // 0) == 20020;
}
ok($merged, 'ticks read in one turn leave merged');
is($p1lag, 5000, 'a merged frame has the most lag_ms of its ticks');

# a state reaches spectators byte for byte as the worker wrote it: in a
# merged frame and in a snapshot, escapes, nested members and the
# digits of its numbers as they came
sub raw_msg {
    my ($ws, $secs) = @_;
    my $f = $ws->read_frame($secs || 5);
    return ref $f && $f->{opcode} == Race::WS::TEXT ? $f->{payload} : undef;
}
my $exact = '{"rider":"p3","t":30000,"name":"Zo\\u00eb \\"Z\\" \\/ '
    . '\\ud83d\\udeb4","x":{"a":[1,{"b":null}],"t":1},"lat":45.0700,'
    . '"e":1E+2}';
publish('r1', tick('r1', $exact),
    map { tick('r1', state('p4', 30000 + $_)) } 1 .. 20);
my ($in_merged, $seen, $end_x) = (0, 0, time + 10);
while (time < $end_x) {
    my $raw = raw_msg($a, $end_x - time) or last;
    my $m = $json->decode($raw);
    my %in = map { $_->{rider} => $_->{t} } @{$m->{riders} || []};
    if ($in{p3}) {
        $seen = index($raw, $exact) >= 0;
        $in_merged = 1 if $in{p4};
    }
    last if ($in{p4} // 0) == 30020;
}
ok($seen && $in_merged, 'a merged frame: the state as it came')
    or diag("want $exact");
my $d = spectator('r1');
my $raw = raw_msg($d) // '';
ok(index($raw, $exact) >= 0, 'a snapshot: the state as it came')
    or diag($raw);
$d->disconnect;

# bad paths
my $ws = Race::WS->new(port => $port);
my $res = $ws->handshake(path => '/live/bad%20race');
is($res->{status}, 404, 'a bad race id: 404');
like($res->{body}, qr/"code":"bad_race"/, 'with the error shape');


# a slow spectator: its queue is bounded; it gets the latest state, not
# the backlog, and the others get the ticks meanwhile

my $slow = spectator('r3', rcvbuf => 4096, prefix => '/short');
my $fast = spectator('r3');
next_msg($fast);

# about 2.4 MB over 3 s: far more than the slow one's queue and socket
# buffers hold, a pace the fast one keeps up with
my $pad = 'x' x 8000;
my $n = 300;
my $pid = fork();
die "fork: $!\n" unless defined $pid;
if ($pid == 0) {
    for my $i (1 .. $n) {
        publish('r3', tick('r3', state('p1', 10000 + $i, pad => $pad)));
        sleep 0.01;
    }
    POSIX::_exit(0);
}

my $got = 0;
my $last = 0;
my $order = 1;
while (my ($st) = next_state($fast, 'p1', 10)) {
    last unless $st;
    $order = 0 if $st->{t} <= $last;
    $last = $st->{t};
    $got++;
    last if $last == 10000 + $n;
}
waitpid($pid, 0);
# ticks that reach nginx in the same turn of its loop leave merged, so
# not quite every one is a frame of its own
is($last, 10000 + $n, 'a fast spectator got to the latest state');
cmp_ok($got, '>', $n / 3, "from a stream of ticks ($got frames)");
ok($order, 'in order');

# now the slow one reads: a bounded number of frames, ending at the latest
my $frames = 0;
my $final = 0;
while (my $msg = next_msg($slow, 3)) {
    $frames++;
    for my $st (@{$msg->{riders}}) {
        $final = $st->{t} if $st->{rider} eq 'p1';
    }
    last if $final == 10000 + $n;
}
cmp_ok($frames, '<', 40, "the slow spectator got $frames frames, not $n");
is($final, 10000 + $n, 'and ends with the latest state');


# Redis restarts: the spectators' sockets stay and their streams resume

Race::Engine::Redis::stop($t);
sleep 0.5;
$t->redis;

my $end = time + 15;
my $back;
while (time < $end && !$back) {
    redis(['HSET', 'race:r1:state', 'p1', state('p1', 50000)]);
    publish('r1', tick('r1', state('p1', 50000)));
    ($s) = next_state($a, 'p1', 1);
    $back = $s && $s->{t} == 50000;
}
ok($back, 'after a Redis restart the same socket gets the new state');


# the last spectator of a race gone: its subscription ends

$_->disconnect for $a, $b, $c, $slow, $fast;
$end = time + 10;
my $subs;
while (time < $end) {
    my @r = redis(['PUBSUB', 'NUMSUB', 'race:r1:live']);
    $subs = $r[0];
    last if $subs =~ /:0\r\n$/;
    sleep 0.1;
}
like($subs, qr/:0\r\n$/, 'no subscription left once its spectators left');

$t->done;
