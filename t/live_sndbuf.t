#!/usr/bin/perl

# race_live_send_buffer: a spectator that falls behind gets the latest
# state, not a backlog, on a server whose listen sets no sndbuf= (as
# none of the shipped configurations does).  Two spectators read nothing
# while a stream of ticks of a realistic size flows, then read: the one
# under the default gets a few frames ending at the latest state; the
# one under "off", whose socket buffer the kernel autotunes, gets the
# stream's backlog, which is what the default is there to prevent.

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use JSON::PP;
use POSIX ();
use Time::HiRes qw(time sleep);
use Race::Test;
use Race::RESP;
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

        # the default: race_live_send_buffer 32k
        location /live/ {
            race_live;
        }

        location /off/live/ {
            race_live;
            race_live_send_buffer off;
        }
    }
EOF

# many commands down one connection, the replies read and dropped
sub redis { resp_pipeline($rport, @_) }

# a tick of one rider, padded to the size of a tick of a busy race
sub tick {
    my ($t) = @_;
    my $state = $json->encode({ rider => 'p1', lat => 45 + $t / 1e6,
        lon => 7.6, t => $t + 0, seq => $t - 10000, pad => 'x' x 2400 });
    return '{"type":"tick","race":"r1","t":' . int(time * 1000)
        . ',"riders":[' . $state . ']}';
}

sub next_msg {
    my ($ws, $secs) = @_;
    my $f = $ws->read_frame($secs || 5);
    return undef unless ref $f && $f->{opcode} == Race::WS::TEXT;
    return $json->decode($f->{payload});
}

# p1's t in a message, 0 if it has none
sub p1_t {
    my ($m) = @_;
    my ($st) = grep { $_->{rider} eq 'p1' } @{$m->{riders} || []};
    return $st ? $st->{t} : 0;
}

# what a spectator that read nothing gets once it reads: frames until the
# latest state, at most $max of them, none more than 5 s apart
sub drain {
    my ($ws, $latest, $max) = @_;
    my ($frames, $final) = (0, 0);
    while ($frames < $max) {
        my $m = next_msg($ws, 5) or last;
        $frames++;
        my $p1 = p1_t($m);
        $final = $p1 if $p1 > $final;
        last if $final == $latest;
    }
    return ($frames, $final);
}


redis(['HSET', 'race:r1:state', 'p1', $json->encode({ rider => 'p1',
    lat => 45, lon => 7.6, t => 10000, seq => 0 })]);

# readers that read nothing, with little room in their own kernels
my $slow = Race::WS->start(port => $port, path => '/live/r1',
    rcvbuf => 4096);
my $off = Race::WS->start(port => $port, path => '/off/live/r1',
    rcvbuf => 4096);

my $fast = Race::WS->start(port => $port, path => '/live/r1');
is((next_msg($fast) || {})->{type}, 'snapshot', 'a spectator that reads');

# about 1 MB of ticks of 2.5 KB over 4 s: hundreds of frames, far more
# than the default holds, well within what an autotuned buffer takes
my $n = 400;
my $latest = 10000 + $n;
my $pid = fork();
die "fork: $!\n" unless defined $pid;
if ($pid == 0) {
    for my $i (1 .. $n) {
        redis(['PUBLISH', 'race:r1:live', tick(10000 + $i)]);
        sleep 0.01;
    }
    POSIX::_exit(0);
}

# the stream is over once the reader has its last state
my ($got, $last) = (0, 0);
while ($got < $n + 10) {
    my $m = next_msg($fast, 10) or last;
    my $p1 = p1_t($m) or next;
    $got++;
    $last = $p1;
    last if $last == $latest;
}
waitpid($pid, 0);
is($last, $latest, 'the reading spectator got to the latest state');
cmp_ok($got, '>', $n / 3, "from a stream of $got frames");

# now the two that read nothing read

my ($frames, $final) = drain($slow, $latest, $n + 10);
is($final, $latest, 'default buffer: it ends with the latest state');
cmp_ok($frames, '<', 60,
    "default buffer: in $frames frames, not the $got of the stream");

my ($off_frames, $off_final) = drain($off, $latest, $n + 10);
is($off_final, $latest, 'off: it ends with the latest state too');
cmp_ok($off_frames, '>', 3 * $frames,
    "off: but after the backlog the kernel held, $off_frames frames");

$_->disconnect for $slow, $off, $fast;

$t->done;
