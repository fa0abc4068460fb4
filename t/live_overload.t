#!/usr/bin/perl

# /live past its capacity: ticks of 50 riders published on Redis far
# faster than the spectators read them, to spectators that read at once,
# one that reads slowly and one that reads nothing until the flood is
# over.  Ticks that pile up are merged (the latest state of each rider
# wins) wherever they wait, so every spectator ends with every rider's
# final state, in far fewer frames than ticks, and a rider's t never
# goes back; nginx answers a status request and a new spectator
# meanwhile.  Then Redis drops the subscriber past its
# client-output-buffer-limit: the spectators keep their sockets and get
# a fresh snapshot once it is back.

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use IO::Handle;
use IO::Socket::INET;
use HTTP::Tiny;
use JSON::PP;
use POSIX ();
use Time::HiRes qw(time sleep);
use Race::Test;
use Race::RESP qw(resp_encode);
use Race::Util;
use Race::WS;

my $t = Race::Test->new;
my $port = $t->port;
my $redis = $t->redis;
my ($rport) = $redis =~ /:(\d+)$/;
my $json = JSON::PP->new->canonical;

$t->nginx(listen => [$port], http => <<"EOF");
    race_redis $redis;

    server {
        listen 127.0.0.1:$port;

        location /live/ {
            race_live;
        }

        location = /race_status {
            race_status;
            allow 127.0.0.1;
            deny all;
        }
    }
EOF

my $RIDERS = 50;
my $FLOOD = 400;            # ticks
my $BATCH = 20;             # ticks per write to Redis
my $FINAL = 1_000_000_000;  # the t of the last ticks, above any other

# many commands down one connection, the replies read back (RESP lines)
sub redis {
    my (@cmds) = @_;

    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $rport,
        Proto => 'tcp', Timeout => 10) or die "redis: $!\n";
    my $req = '';
    $req .= resp_encode(@$_) for @cmds;
    print $s $req;

    my @replies = map { scalar <$s> } @cmds;
    close $s;
    return @replies;
}

# lat an exact binary fraction: it reads back the same after jansson
sub state {
    my ($i, $seq, $t) = @_;
    return sprintf('{"rider":"p%d","lat":%s,"lon":7.5,"t":%d,"seq":%d}',
        $i, 45 + ($seq % 64) / 64, $t, $seq);
}

# tick k holds two riders of three: merged ticks must keep both sets
sub riders_of { my ($k) = @_; grep { $_ % 3 != $k % 3 } 0 .. $RIDERS - 1 }

sub tick {
    my ($k, $t) = @_;
    return '{"type":"tick","race":"r1","t":' . $t . ',"riders":['
        . join(',', map { state($_, $k, $t) } riders_of($k)) . ']}';
}

# the last three ticks, one write: every rider is in one of them
my %final;
for my $j (1 .. 3) {
    $final{"p$_"} = state($_, $FLOOD + $j, $FINAL + $j)
        for riders_of($FLOOD + $j);
}

redis(map { ['HSET', 'race:r1:state', "p$_", state($_, 0, 1000)] }
    0 .. $RIDERS - 1);


# the spectators, each in a process of its own; each reports in a file

pipe(my $ready_r, my $ready_w) or die "pipe: $!\n";
pipe(my $go_r, my $go_w) or die "pipe: $!\n";

sub spectator {
    my ($name, %a) = @_;

    my $pid = fork();
    die "fork: $!\n" unless defined $pid;
    return $pid if $pid;

    close $ready_r;
    close $go_w;

    my %r = (frames => 0, snapshots => 0, back => 0, last => {}, t => {});
    my $end = time + 120;

    my $ws = eval { Race::WS->start(port => $port, path => '/live/r1',
        rcvbuf => $a{rcvbuf}) };
    my $first = $ws && $ws->read_frame(20);
    $ready_w->autoflush(1);
    print $ready_w "$name\n";

    if (ref $first) {
        read_states(\%r, $first->{payload});

        # the stalled one reads nothing until the flood is over
        if ($a{stall}) {
            my $go = <$go_r>;
        }

        while (time < $end && !at_final(\%r)) {
            my $f = $ws->read_frame($end - time);
            last unless ref $f;
            read_states(\%r, $f->{payload});
            sleep $a{pace} if $a{pace};
        }
    }

    $t->write_file("$name.json", $json->encode(\%r));
    POSIX::_exit(0);
}

sub read_states {
    my ($r, $payload) = @_;

    $r->{frames}++;
    $r->{snapshots}++ if $payload =~ /^\{"type":"snapshot"/;

    # states are flat objects: no need to decode a whole frame here
    while ($payload =~ /(\{"rider":"(p\d+)"[^{}]*\})/g) {
        my ($st, $rider) = ($1, $2);
        my ($tt) = $st =~ /"t":(\d+)/;
        $r->{back}++ if defined $r->{t}{$rider} && $tt < $r->{t}{$rider};
        $r->{t}{$rider} = $tt;
        $r->{last}{$rider} = $st;
    }
}

sub at_final {
    my ($r) = @_;
    for my $rider (keys %final) {
        my ($tt) = $final{$rider} =~ /"t":(\d+)/;
        return 0 unless ($r->{t}{$rider} || 0) == $tt;
    }
    return 1;
}

my %readers = (
    fast1 => spectator('fast1'),
    fast2 => spectator('fast2'),
    fast3 => spectator('fast3'),
    slow => spectator('slow', rcvbuf => 4096, pace => 0.02),
    stalled => spectator('stalled', rcvbuf => 4096, stall => 1),
);
close $ready_w;
close $go_r;

my %ready;
while (keys %ready < keys %readers) {
    my $line = <$ready_r>;
    last unless defined $line;
    chomp $line;
    $ready{$line} = 1;
}
is(join(',', sort keys %ready), join(',', sort keys %readers),
    'every spectator is connected');


# the flood: as fast as Redis takes it, BATCH ticks a write

my $publisher = fork();
die "fork: $!\n" unless defined $publisher;
if ($publisher == 0) {
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
        PeerPort => $rport, Proto => 'tcp', Timeout => 10)
        or POSIX::_exit(1);

    for (my $k = 1; $k <= $FLOOD; $k += $BATCH) {
        my @cmds = map { resp_encode('PUBLISH', 'race:r1:live',
            tick($_, 1000 + $_)) } $k .. $k + $BATCH - 1;
        print $s join('', @cmds);
        <$s> for @cmds;
    }

    # what the worker does: the state in Redis, then the tick
    my @last = map { tick($FLOOD + $_, $FINAL + $_) } 1 .. 3;
    print $s join('', (map { resp_encode('HSET', 'race:r1:state', $_,
        $final{$_}) } sort keys %final),
        map { resp_encode('PUBLISH', 'race:r1:live', $_) } @last);
    <$s> for 1 .. keys(%final) + 3;

    POSIX::_exit(0);
}


# meanwhile nginx answers others

my $ua = HTTP::Tiny->new(timeout => 60);
my $res = $ua->get("http://127.0.0.1:$port/race_status");
my $status = $res->{status} == 200 && eval { $json->decode($res->{content}) };
cmp_ok($status ? $status->{live}{subscribers} : 0, '>=', 5,
    'race_status answers during the flood');

# generous bounds: a sanitized build parses ticks slowly
my $late = Race::WS->new(port => $port);
my $hs = $late->handshake(path => '/live/r1', timeout => 60);
is($hs && $hs->{status}, 101, 'a new spectator is let in during the flood');
my $f = $late->read_frame(60);
my $snap = ref $f && eval { $json->decode($f->{payload}) };
is($snap && $snap->{type}, 'snapshot', 'a new spectator gets a snapshot');
is(scalar @{$snap ? $snap->{riders} : []}, $RIDERS, 'of every rider');
my $over = waitpid($publisher, POSIX::WNOHANG) == $publisher;
my $published = $?;
diag('the flood was ' . ($over ? 'over' : 'still on') . ' then');
$late->disconnect;

my $end = time + 120;
until ($over) {
    $over = waitpid($publisher, POSIX::WNOHANG) == $publisher;
    $published = $?;
    if (!$over && time > $end) {
        kill 'KILL', $publisher;
        waitpid($publisher, 0);
        $published = $?;
        last;
    }
    sleep 0.05;
}
is($published, 0, "$FLOOD ticks of $RIDERS riders published");

# the stalled spectator reads now
print $go_w "go\n";
close $go_w;

$end = time + 150;
for my $name (sort keys %readers) {
    my $pid = $readers{$name};
    until (waitpid($pid, POSIX::WNOHANG) == $pid) {
        if (time > $end) {
            kill 'KILL', $pid;
            waitpid($pid, 0);
            last;
        }
        sleep 0.05;
    }
}

my $ticks = $FLOOD + 3;

for my $name (sort keys %readers) {
    my $r = eval { $json->decode($t->read_file("$name.json")) } || {};
    my $last = $r->{last} || {};

    my @wrong = grep {
        !defined $last->{$_}
        || $json->encode($json->decode($last->{$_}))
           ne $json->encode($json->decode($final{$_}))
    } sort keys %final;

    is("@wrong", '', "$name: the last state of every rider is the final one");
    is($r->{back}, 0, "$name: no rider's t ever went back");
    cmp_ok($r->{frames} || 0, '<', $ticks / 4,
        "$name: $ticks ticks came merged in " . ($r->{frames} || 0)
        . ' frames (' . ($r->{snapshots} || 0) . ' snapshots)');
}


# Redis drops a subscriber whose output buffer passes the limit: the
# module connects again and its spectators get a fresh snapshot

my $ws = Race::WS->start(port => $port, path => '/live/r1');
ok(read_until($ws, qr/"type":"snapshot"/, 20), 'a spectator before the drop');

# past the 16 KB a Redis client's reply buffer holds before its list
# of replies, which is what the limit counts: dropped whatever else
# was waiting
my $big = state(0, 1, $FINAL + 10);
$big =~ s/\}$/,"pad":"${\ ('x' x 40000)}"}/;

redis(['CONFIG', 'SET', 'client-output-buffer-limit', 'pubsub 1kb 1kb 0'],
      ['HSET', 'race:r1:state', 'p0', $big],
      ['PUBLISH', 'race:r1:live',
       '{"type":"tick","race":"r1","t":1,"riders":[' . $big . ']}']);

my @seen;
ok(read_until($ws, qr/"type":"snapshot".*"t":${\ ($FINAL + 10)}\b/, 30,
    \@seen), 'the subscriber dropped: a fresh snapshot on the same socket');
ok(!grep({ /"type":"tick"/ } @seen), 'the big tick itself never came');

redis(['CONFIG', 'SET', 'client-output-buffer-limit', 'pubsub 32mb 8mb 60']);

my $small = state(1, 2, $FINAL + 11);
my $got = wait_for(sub {
    redis(['PUBLISH', 'race:r1:live',
        '{"type":"tick","race":"r1","t":2,"riders":[' . $small . ']}']);
    return read_until($ws, qr/"t":${\ ($FINAL + 11)}\b/, 1);
}, 30, 0.01);
ok($got, 'and ticks again after it');
like($t->read_file('error.log'), qr/redis subscriber connection lost/,
    'the drop is logged');

$ws->disconnect;

$t->done;
