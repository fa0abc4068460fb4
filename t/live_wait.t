#!/usr/bin/perl

# A new spectator waits for its race's first snapshot at most
# race_redis_timeout: when the race's states cannot be loaded (here
# their key is not a hash, so HGETALL fails), it is closed with 1013
# and the page tries again; once they can, a spectator gets its
# snapshot and keeps its socket.  The wait's timer is a spectator's
# only while it waits: the sanitizers see it freed once, whichever
# way the wait ends.

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use Race::Test;
use Race::RESP;
use Race::Util qw(wait_for);
use Race::WS;

my $t = Race::Test->new;
my $port = $t->port;
my $redis = $t->redis;
my ($rport) = $redis =~ /:(\d+)$/;

sub redis { resp_pipeline($rport, @_) }

$t->nginx(listen => [$port], http => <<"EOF");
    race_redis $redis;
    race_redis_timeout 1s;

    server {
        listen 127.0.0.1:$port;

        location /live/ {
            race_live;
        }
    }
EOF

# connected to Redis: a spectator of r1 gets its snapshot
my $sp = Race::WS->start(port => $port, path => '/live/r1');
my $f = $sp->read_frame(10);
like(ref $f ? $f->{payload} : '', qr/^\{"type":"snapshot"/,
    'a snapshot while Redis answers');

redis(['SET', 'race:r2:state', 'not a hash']);

# r2's states do not load: its spectator waits, and is told to try again
my $w = Race::WS->start(port => $port, path => '/live/r2');
my ($code, $reason) = $w->read_close(10);
is($code, 1013, 'no snapshot in time: 1013');
is($reason, 'live state unavailable, try again', 'with its reason');
$w->send_close(1013, '');
ok($w->wait_eof(5), 'then closed');

ok(wait_for(sub {
    $t->read_file('error.log') =~ /no snapshot of race "r2" in 1000ms/
}, 5, 0.05), 'logged');

# a spectator that leaves while it waits takes its timer with it: the
# wait of a later one, begun after, ends first and says nothing of r3
redis(['SET', 'race:r3:state', 'not a hash']);
my $gone = Race::WS->start(port => $port, path => '/live/r3');
$gone->send_close(1000, 'bye');
$gone->expect_close(1000, 'r3 while it waits');

$w = Race::WS->start(port => $port, path => '/live/r2');
($code) = $w->read_close(10);
is($code, 1013, 'a later wait ends with 1013');
$w->send_close(1013, '');
ok(wait_for(sub {
    my $n = () = $t->read_file('error.log') =~ /no snapshot of race "r2"/g;
    $n >= 2;
}, 5, 0.05), 'logged');
unlike($t->read_file('error.log'), qr/no snapshot of race "r3"/,
    'the one that left has no timer left');

# they load again: the wait ends with a snapshot, the socket stays
redis(['DEL', 'race:r2:state']);

my $got = Race::WS->start(port => $port, path => '/live/r2');
$f = $got->read_frame(10);
like(ref $f ? $f->{payload} : '', qr/^\{"type":"snapshot"/,
    'a snapshot once the states load');

$got->send_frame(Race::WS::PING, 'still here');
$f = $got->read_frame(5);
is(ref $f && $f->{opcode}, Race::WS::PONG, 'the socket stays open');

$sp->send_close(1000, 'bye');
$sp->expect_close(1000, 'r1');
$got->send_close(1000, 'bye');
$got->expect_close(1000, 'r2');

$t->done;
