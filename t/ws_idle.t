#!/usr/bin/perl

# An idle WebSocket keeps only what it needs: once the 101 is out, the
# request of a /live spectator or an echo socket is freed (and logged,
# as nginx logs a keep-alive request), its header buffers too, the read
# buffer is given back whenever all that came is parsed, and the send
# queue goes back to its few inline slots once empty.  Everything after
# that still works: ticks, a tick larger than any buffer, a backlog
# larger than the inline queue, the peer writing again, fragments,
# pings, the close handshake.  What the socket keeps fits in one block
# of its connection's pool (the debug log says so).  A socket whose
# request something else needs (limit_conn counts it) keeps its
# request, and the limit holds.

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use IO::Socket::INET;
use JSON::PP;
use Time::HiRes qw(time sleep);
use Race::Test;
use Race::RESP qw(resp_encode);
use Race::Util qw(wait_for);
use Race::WS;

my $t = Race::Test->new;
my $port = $t->port;
my $redis = $t->redis;
my ($rport) = $redis =~ /:(\d+)$/;
my $json = JSON::PP->new->canonical;
my $dir = $t->dir;

$t->nginx(listen => [$port], http => <<"EOF");
    race_redis $redis;
    limit_conn_zone \$binary_remote_addr zone=idle_sockets:1m;
    limit_conn_status 429;

    server {
        # a small socket buffer: a backlog waits in the send queue
        listen 127.0.0.1:$port sndbuf=16k;

        location /live/ {
            race_live;
            race_ws_send_queue 256;
            error_log $dir/debug.log debug;
        }

        location = /echo {
            race_ws_echo;
            error_log $dir/debug.log debug;
        }

        location = /limited/echo {
            race_ws_echo;
            limit_conn idle_sockets 1;
        }
    }
EOF

sub redis {
    my (@cmds) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $rport,
        Proto => 'tcp', Timeout => 5) or die "redis: $!\n";
    print $s join '', map { resp_encode(@$_) } @cmds;
    for (@cmds) {
        my $line = <$s>;
        read($s, my $v, $1 + 2) if defined $line && $line =~ /^\$(\d+)/;
    }
    close $s;
}

sub state {
    my ($rider, $t) = @_;
    return $json->encode({ rider => $rider, lat => 45 + $t / 1e6,
        lon => 7.6, t => $t + 0, seq => int($t / 1000) });
}

sub tick {
    my (@states) = @_;
    return '{"type":"tick","race":"r1","t":' . int(time * 1000)
        . ',"riders":[' . join(',', @states) . ']}';
}

sub publish { redis(map { ['PUBLISH', 'race:r1:live', $_] } @_) }

sub next_msg {
    my ($ws) = @_;
    my $f = $ws->read_frame(5);
    return undef unless ref $f && $f->{opcode} == Race::WS::TEXT;
    return $json->decode($f->{payload});
}

# the access log has the line of the n-th request for PATH: the request
# was freed (a detached socket logs at once, a kept one when it closes)
sub logged {
    my ($path, $n) = @_;
    my @l = grep { m{"GET \Q$path\E HTTP/1\.1" 101 } }
        split /\n/, $t->read_file('access.log');
    return @l >= $n;
}

# what each detached socket's connection pool kept, from the debug log:
# [blocks, large allocations] (the second block would be half a KB)
sub pools {
    return [map { /websocket's pool: (\d+) blocks, (\d+) large/ ? [$1, $2]
                  : () } split /\n/, $t->read_file('debug.log')];
}

redis(['HSET', 'race:r1:state', 'p1', state('p1', 1000)],
      ['HSET', 'race:r1:state', 'p2', state('p2', 1000)]);

# -- /live: the spectator's request is freed once it is idle

my $sp = Race::WS->start(port => $port, path => '/live/r1');
my $m = next_msg($sp);
is($m && $m->{type}, 'snapshot', 'live: the snapshot');
is($m && scalar @{$m->{riders}}, 2, 'live: of both riders');

ok(wait_for(sub { logged('/live/r1', 1) }, 10, 0.05),
    'live: the request is logged while the socket is open (freed)');
is_deeply(pools(), [[1, 1]], 'live: its connection\'s pool is one block, '
    . 'and the socket the only large allocation');

publish(tick(state('p1', 2000)));
$m = next_msg($sp);
is($m && $m->{riders}[0]{t}, 2000, 'live: a tick after the request is gone');

# larger than the read buffer, the inline queue and the socket buffer
my @many = map { state("q$_", 3000) } 1 .. 600;
my $big = tick(@many);
cmp_ok(length $big, '>', 32768, 'live: a tick of ' . length($big)
    . ' bytes');
publish($big);
my %q;
while (keys %q < 600) {
    my $x = next_msg($sp) or last;
    $q{$_->{rider}}++ for grep { $_->{rider} =~ /^q/ } @{$x->{riders}};
}
is(scalar keys %q, 600, 'live: the big tick, whole');

# a backlog: more frames than the inline queue while the reader sleeps
# (ticks may be merged on the way: the latest state comes, in order)
publish(map { tick(state('p2', 4000 + $_)) } 1 .. 20);
sleep 0.3;
my @seen;
for (1 .. 20) {
    my $x = next_msg($sp) or last;
    my ($p2) = grep { $_->{rider} eq 'p2' } @{$x->{riders}};
    push @seen, $p2->{t} if $p2;
    last if $p2 && $p2->{t} == 4020;
}
is($seen[-1], 4020, 'live: a backlog of 20 ticks, up to the last');
is_deeply(\@seen, [sort { $a <=> $b } @seen], 'live: in order');

# the queue went back to its inline slots: later ticks still come
publish(tick(state('p1', 9000)), tick(state('p2', 9000)));
my %late;
while (keys %late < 2) {
    my $x = next_msg($sp) or last;
    $late{$_->{rider}} = $_->{t} for grep { $_->{t} == 9000 } @{$x->{riders}};
}
is_deeply(\%late, { p1 => 9000, p2 => 9000 }, 'live: ticks after the backlog');

# the spectator talks: a ping is answered from a fresh read buffer
$sp->send_frame(Race::WS::PING, 'after idle');
my $f = $sp->read_frame(5);
is(ref $f && $f->{opcode}, Race::WS::PONG, 'live: a ping after idle');
is(ref $f && $f->{payload}, 'after idle', 'live: with its payload');

$sp->send_close(1000, 'bye');
$sp->expect_close(1000, 'live');

# -- echo: the peer writes again after idling

my $e = Race::WS->start(port => $port, path => '/echo');
$e->send_frame(Race::WS::TEXT, 'first');
$f = $e->read_frame(5);
is(ref $f && $f->{payload}, 'first', 'echo: the first message');

ok(wait_for(sub { logged('/echo', 1) }, 10, 0.05),
    'echo: the request is logged while the socket is open (freed)');
is_deeply(pools()->[1], [1, 1], 'echo: one block, one large allocation');

sleep 0.5;
$e->send_frame(Race::WS::TEXT, 'after a while');
$f = $e->read_frame(5);
is(ref $f && $f->{payload}, 'after a while', 'echo: a message after idle');

# larger than the read buffer: read in several buffers
my $large = join '', map { chr(97 + $_ % 26) } 1 .. 50000;
$e->send_frame(Race::WS::BINARY, $large);
$f = $e->read_frame(10);
ok(ref $f && $f->{payload} eq $large, 'echo: 50000 bytes, whole');

# in fragments, twice: the reassembly buffer is not kept in between
for my $round (1, 2) {
    $e->send_frame(Race::WS::TEXT, "part1-$round-", fin => 0);
    sleep 0.1;
    $e->send_frame(Race::WS::CONT, 'part2-', fin => 0);
    $e->send_frame(Race::WS::CONT, "end$round");
    $f = $e->read_frame(5);
    is(ref $f && $f->{payload}, "part1-$round-part2-end$round",
        "echo: a fragmented message, round $round");
}

# a frame split across reads: its start waits in the parser
my $frame = Race::WS::frame(Race::WS::TEXT, 'split frame');
$e->send_raw(substr($frame, 0, 3));
sleep 0.2;
$e->send_raw(substr($frame, 3));
$f = $e->read_frame(5);
is(ref $f && $f->{payload}, 'split frame', 'echo: a frame in two reads');

$e->send_close(1000, 'done');
$e->expect_close(1000, 'echo');

# -- limit_conn lives as long as the request: the request is kept

my $l1 = Race::WS->start(port => $port, path => '/limited/echo');
$l1->send_frame(Race::WS::TEXT, 'kept');
$f = $l1->read_frame(5);
is(ref $f && $f->{payload}, 'kept', 'limited: echoes');

my $l2 = Race::WS->new(port => $port);
my $res = $l2->handshake(path => '/limited/echo');
is($res && $res->{status}, 429, 'limited: a second socket is refused');

sleep 0.3;
ok(!logged('/limited/echo', 1), 'limited: the open socket is not logged');

$l1->send_close(1000, 'done');
$l1->expect_close(1000, 'limited');
ok(wait_for(sub { logged('/limited/echo', 1) }, 10, 0.05),
    'limited: logged when it closes');

my $l3 = Race::WS->start(port => $port, path => '/limited/echo');
$l3->send_frame(Race::WS::TEXT, 'again');
$f = $l3->read_frame(5);
is(ref $f && $f->{payload}, 'again', 'limited: the slot is free again');

# -- a graceful stop says goodbye to a detached socket

my $g = Race::WS->start(port => $port, path => '/live/r1');
ok(next_msg($g), 'stop: a spectator');
ok(wait_for(sub { logged('/live/r1', 2) }, 10, 0.05), 'stop: detached');

kill 'QUIT', $t->pid('nginx');

for ([$g, 'stop'], [$l3, 'stop, kept request']) {
    my ($ws, $name) = @$_;
    my ($code) = $ws->read_close(5);
    is($code, 1001, "$name: close 1001");
    $ws->send_close(1001, '');
    ok($ws->wait_eof(3), "$name: closed once the close is answered");
}

$t->done;
