#!/usr/bin/perl

# Redis stalls (stopped, not gone: its connections stay open and nothing
# fails, replies just never come).  Every request that waits on it is
# answered 503 with the error shape within race_redis_timeout: /api/me,
# login, logout, the /ride revocation check, /live's read of the race's
# meta.  When Redis resumes everything works again: new requests
# succeed, a spectator who kept its socket gets a fresh snapshot, and
# the late replies crash nothing.

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use HTTP::Tiny;
use JSON::PP;
use Time::HiRes qw(time sleep);
use Race::Test;
use Race::Util;
use Race::Platform;
use Race::RESP;
use Race::Token;
use Race::WS;

my $t = Race::Test->new;
my $p = Race::Platform->start($t, accounts => 1, no_tracker => 1,
    http => 'race_redis_timeout 1s;');
my $port = $p->port;
my $rport = $p->{redis_port};
my $json = JSON::PP->new->canonical;

# a client that gives up well after the module should have answered
my $ua = HTTP::Tiny->new(timeout => 8);

# the bound: the timeout, a probe period of slack, the client's own pace
my $BOUND = 3;

# status, body and the seconds it took
sub call {
    my ($method, $path, %a) = @_;
    my ($st, $data, undef, $elapsed) = api_call($ua, $method,
        "http://127.0.0.1:$port$path", %a);
    return ($st, $data, $elapsed);
}

sub ride {
    my $tok = Race::Token::mint(secret => $p->secret, kid => 'k1',
        race => 'r1', rider => 'p1');
    my $ws = Race::WS->new(port => $port);
    my $t0 = time;
    my $res = $ws->handshake(path => '/ride', timeout => 8,
        headers => ['Authorization' => "Bearer $tok"]);
    return ($res, time - $t0);
}

sub next_msg {
    my ($ws, $secs) = @_;
    my $end = time + $secs;
    while (time < $end) {
        my $f = $ws->read_frame($end - time);
        return undef unless ref $f;
        next unless $f->{opcode} == Race::WS::TEXT;
        return $json->decode($f->{payload});
    }
    return undef;
}


# before: an account, a rider, a spectator with its snapshot

my %ann = (email => 'ann@example.org', name => 'Ann',
    password => 'correct horse battery staple ' . int(rand(1e9)));

my ($st, $d) = call(POST => '/api/auth/signup', json => \%ann);
is($st, 201, 'signup') or diag($json->encode($d || {}));
my $token = $d->{token};

resp_command($rport, 'HSET', 'race:r1:state', 'p1',
    '{"rider":"p1","lat":45.1,"lon":7.6,"t":1000}');

my $watcher = Race::WS->start(port => $port, path => '/live/r1');
my $snap = next_msg($watcher, 5);
is($snap && $snap->{type}, 'snapshot', 'a spectator has its snapshot');

my ($res) = ride();
is($res && $res->{status}, 101, 'a rider gets in');


# Redis stops answering

my $redis = $t->pid('redis');
kill 'STOP', $redis;

# whatever happens below, Redis must not stay stopped
my $stopped = 1;
END { kill 'CONT', $redis if $stopped && $redis }

my $dt;

($st, $d, $dt) = call(GET => '/api/me', token => $token);
is($st, 503, '/api/me while Redis is silent: 503');
is(error_code($d), 'unavailable', '/api/me: unavailable, in the shape');
cmp_ok($dt, '<', $BOUND, sprintf('/api/me: in %.1fs', $dt));

($st, $d, $dt) = call(POST => '/api/auth/login',
    json => { email => $ann{email}, password => $ann{password} });
is($st, 503, 'login while Redis is silent: 503');
is(error_code($d), 'unavailable', 'login: unavailable, in the shape');
cmp_ok($dt, '<', $BOUND, sprintf('login: in %.1fs', $dt));

($st, $d, $dt) = call(POST => '/api/auth/logout', token => $token,
    json => {});
is($st, 503, 'logout while Redis is silent: 503');
cmp_ok($dt, '<', $BOUND, sprintf('logout: in %.1fs', $dt));

($res, $dt) = ride();
is($res && $res->{status}, 503, '/ride while Redis is silent: 503');
like($res ? $res->{body} : '', qr/"code":"unavailable"/,
    '/ride: unavailable, in the shape');
cmp_ok($dt, '<', $BOUND, sprintf('/ride: in %.1fs', $dt));

# a new spectator: whether the race is private cannot be read, so
# nobody new gets in (fails closed)
my $late = Race::WS->new(port => $port);
my $t0 = time;
my $lres = $late->handshake(path => '/live/r1', timeout => 8);
is($lres && $lres->{status}, 503, 'a new spectator: 503');
like($lres ? $lres->{body} : '', qr/"code":"unavailable"/,
    '/live: unavailable, in the shape');
cmp_ok(time - $t0, '<', $BOUND, sprintf('/live: in %.1fs', time - $t0));
$late->disconnect;

# longer than a few timeouts: the reconnects meet a silent Redis too
sleep 2;

($st, $d, $dt) = call(GET => '/api/me', token => $token);
is($st, 503, 'later still: 503');
cmp_ok($dt, '<', $BOUND, sprintf('later: in %.1fs', $dt));


# Redis resumes: the replies owed arrive late, and find nobody

kill 'CONT', $redis;
$stopped = 0;

ok(wait_for(sub { (call(GET => '/api/me', token => $token))[0] == 200 },
    20), 'after the stall /api/me answers 200 again');

($st, $d) = call(POST => '/api/auth/login',
    json => { email => $ann{email}, password => $ann{password} });
is($st, 200, 'and login works');

($res) = ride();
is($res && $res->{status}, 101, 'and a rider gets in');

ok(wait_for(sub {
        my $ws = Race::WS->new(port => $port);
        my $r = $ws->handshake(path => '/live/r1');
        return 0 unless $r && $r->{status} == 101;
        my $m = next_msg($ws, 3);
        $ws->disconnect;
        return $m && $m->{type} eq 'snapshot';
    }, 20), 'a new spectator gets its snapshot');

# the spectator who stayed: a new snapshot, since ticks may be lost
my $again = next_msg($watcher, 10);
is($again && $again->{type}, 'snapshot',
    'the spectator who stayed gets a fresh snapshot');
$watcher->disconnect;

ok($t->running('nginx'), 'nginx is still running');
unlike($t->read_file('error.log'), qr/exited on signal/,
    'no worker crashed');
like($t->read_file('error.log'), qr/did not answer in 1000ms/,
    'the stall is logged');

$t->done;
