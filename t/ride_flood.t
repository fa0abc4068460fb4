#!/usr/bin/perl

# /ride flood control: a phone that sends and sends while Kafka is down
# gets no more of the worker than race_ride_max_in_flight fixes and
# race_ride_max_in_flight_size bytes (README: "Memory of a worker").
# Reading stops there and TCP holds the phone back; the delivery reports
# of a broker that comes back free room and reading resumes.  Real Kafka.

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use Errno qw(EAGAIN EWOULDBLOCK EINTR);
use IO::Select;
use Socket qw(SOL_SOCKET SO_LINGER);
use Time::HiRes qw(time sleep);
use Race::Test;
use Race::Util;
use Race::WS;
use Race::Token;
use Race::Engine::Redis;
use Race::Engine::Kafka;

my $t = Race::Test->new;
my $port = $t->port;
my $kafka = $t->kafka;
my $redis = $t->redis;

# no race-accounts here: the revocations are loaded, as it would say
Race::Engine::Redis::revocations_loaded(($redis =~ /:(\d+)$/)[0]);
my ($keyfile, $secret) = Race::Token::key_file($t);

my $MAX_FIXES = 400;             # race_ride_max_in_flight
my $MAX_SIZE = 64 * 1024;        # race_ride_max_in_flight_size
my $BATCH = 100;                 # fixes per message the phone sends
my $FLOOD = 100 * 1024 * 1024;   # what the phone tries to send

# the listen socket's receive buffer is small so that what the kernel
# holds for a held phone is small too: the Kafka count below allows it
$t->nginx(listen => [$port], http => <<"EOF");
    race_kafka_brokers $kafka;
    race_kafka_topic ride_flood.t;
    race_redis $redis;
    race_token_key k1 $keyfile;

    server {
        listen 127.0.0.1:$port rcvbuf=4k;

        location /ride {
            race_ingest;
            race_ride_max_in_flight $MAX_FIXES;
            race_ride_max_in_flight_size 64k;
        }
    }
EOF

sub ride {
    my ($rider) = @_;
    my $tok = Race::Token::mint(secret => $secret, race => 'r1',
        rider => $rider);
    return Race::WS->start(port => $port, path => '/ride',
        headers => ['Authorization' => "Bearer $tok"]);
}

sub fixes {
    my ($from, $n) = @_;
    my $ms = now_ms();
    return '{"type":"fixes","items":[' . join(',', map {
        qq{{"type":"fix","seq":$_,"t":$ms,"lat":45.07,"lon":7.68}}
    } $from .. $from + $n - 1) . ']}';
}

# the one worker process of the master
sub worker_pid {
    my $master = $t->pid('nginx');
    for my $stat (glob '/proc/[0-9]*/stat') {
        my $s = $t->read_file($stat) or next;
        my ($pid, $ppid) = $s =~ /^(\d+) \(.*\) \S (\d+)/ or next;
        next unless $ppid == $master;
        my $cmd = $t->read_file("/proc/$pid/cmdline") || '';
        return $pid if $cmd =~ /worker process/;
    }
    return undef;
}

sub rss_kb {
    my ($pid) = @_;
    my ($kb) = ($t->read_file("/proc/$pid/status") || '')
        =~ /^VmRSS:\s+(\d+) kB/m;
    return $kb;
}

# the fixes of a rider in the topic
sub stored {
    my ($rider) = @_;
    my $dump = `$ENV{RACE_BUILD}/t/kafka_dump $kafka ride_flood.t 2>&1`;
    my $n = 0;
    for (split /\n/, $dump) {
        next unless /"rider":"$rider"/;
        $n += () = /"seq":/g;
    }
    return $n;
}


# warm up: the producer connected, the topic made, the worker's arenas
# filled by a first round of what a ride allocates

my $ws = ride('warm');
$ws->send_frame(Race::WS::TEXT, fixes(1, $BATCH));
is(read_until($ws, qr/"ack"/, 30), qq{{"type":"ack","seq":$BATCH}},
    'a batch is acked');
$ws->disconnect;

my $worker = worker_pid();
ok($worker, "the worker process ($worker)");

Race::Engine::Kafka::stop($t);

my $rss0 = rss_kb($worker);

# the flood: one batch again and again, as fast as the socket takes it,
# until 100 MB are out, the server has not read for 3 s, or 60 s passed

$ws = ride('flood');
my $sock = $ws->sock;
my $frame = Race::WS::frame(Race::WS::TEXT, fixes(1, $BATCH));
my $sel = IO::Select->new($sock);
my ($sent, $off) = (0, 0);
my $end = time + 60;
my $last_progress = time;

while ($sent < $FLOOD && time < $end && time - $last_progress < 3) {
    my $n = syswrite($sock, $frame, length($frame) - $off, $off);

    if (defined $n) {
        $sent += $n;
        $off = ($off + $n) % length $frame;
        $last_progress = time;
        next;
    }

    last unless $! == EAGAIN || $! == EWOULDBLOCK || $! == EINTR;
    $sel->can_write(0.2);
}

my $rss1 = rss_kb($worker);
my $grown = $rss1 - $rss0;

diag(sprintf('phone sent %.1f MB; worker RSS %d kB -> %d kB',
    $sent / 1048576, $rss0, $rss1));

cmp_ok($sent, '<', $FLOOD, 'the server stopped reading: TCP held the phone');

# README: per phone, the size bound and one message over it, plus for
# each message its record and librdkafka's (512 bytes allowed), plus the
# WebSocket buffers (16k in, one message reassembled); the sanitizer's
# redzones and allocator pages: 4 MB
my $msg_max = 256 + $BATCH * 320;
my $bound_kb = int(($MAX_SIZE + $msg_max
    + ($MAX_FIXES + 1) * 512 + 16384 + length $frame) / 1024) + 4096;

cmp_ok($grown, '<=', $bound_kb,
    "worker RSS grew by $grown kB, within the bound of $bound_kb kB");

# the phone goes away hard: what its kernel still had is dropped, what
# the worker's kernel holds is the small rcvbuf
setsockopt($sock, SOL_SOCKET, SO_LINGER, pack('ii', 1, 0));
close $sock;

$t->kafka;

# a ride of the same race after the broker is back: its ack comes after
# the reports of everything the worker had in flight (one partition)
my $probe = ride('probe');
$probe->send_frame(Race::WS::TEXT, fixes(1, 1));
is(read_until($probe, qr/"ack"/, 60), '{"type":"ack","seq":1}',
    'broker back: a new ride is acked');

# what was held is stored, and nothing beyond the bound: the bound, one
# message over it, and what the small socket buffer still held
my $got = stored('flood');
my $prev = -1;
for (1 .. 5) {
    last if $got == $prev;
    $prev = $got;
    sleep 1;
    $got = stored('flood');
}

my $slack = $BATCH + int((16384 + 16384) / (length($frame) / $BATCH));
cmp_ok($got, '>=', $MAX_FIXES, "the held fixes are stored ($got)");
cmp_ok($got, '<=', $MAX_FIXES + $BATCH + $slack,
    'nothing beyond the bound is stored');

$t->done;
