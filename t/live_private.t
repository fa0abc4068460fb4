#!/usr/bin/perl

# /live/{race} of a private race: the race's meta hash
# (race:race:<id>:meta, written by race-accounts; here straight into
# Redis) says public 0, and a spectator needs a token of that race: a
# spectator link (aud live) or a rider's token (aud ride), verified,
# not expired, not revoked.  No token or a bad one: 401; another race's:
# 403.  An open socket is closed with 1008 when its token is revoked or
# expires.  Public races and races with no meta (ad-hoc races) need
# nothing.  Redis silent: 503, nobody gets in.  No token in any log.

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use JSON::PP;
use Time::HiRes qw(time);
use Race::Test;
use Race::Util;
use Race::WS;
use Race::Token;
use Race::RESP;

my $t = Race::Test->new;
my $port = $t->port;
my $redis = $t->redis;
my ($rport) = $redis =~ /:(\d+)$/;
my ($keyfile, $secret) = Race::Token::key_file($t);
my $json = JSON::PP->new;

$t->nginx(listen => [$port], log_level => 'info', http => <<"EOF");
    race_redis $redis;
    race_redis_timeout 1s;
    race_token_key k1 $keyfile;

    server {
        listen 127.0.0.1:$port;

        location /live/ {
            race_live;
        }
    }
EOF

sub meta {
    my ($race, %m) = @_;
    resp_command($rport, 'HSET', "race:race:$race:meta", status => 'live',
        public => 1, owner => 'u1', start_at => now_ms(), finished_at => 0,
        %m);
}

# a spectator link of a race
sub link_token {
    my ($race, %a) = @_;
    return Race::Token::mint(secret => $secret, aud => 'live',
        race => $race, rider => 'link', %a);
}

# (status, body, WWW-Authenticate, the socket) of a handshake
sub watch {
    my ($race, %a) = @_;
    my $path = "/live/$race";
    $path .= "?access_token=$a{query}" if $a{query};
    my $ws = Race::WS->new(port => $port);
    my $res = $ws->handshake(path => $path, timeout => 8,
        headers => $a{token} ? ['Authorization' => "Bearer $a{token}"] : []);
    return (0, '', '', $ws) unless $res;
    return ($res->{status}, $res->{body},
        Race::WS::header($res, 'WWW-Authenticate') // '', $ws);
}

sub code {
    my ($body) = @_;
    my $d = eval { $json->decode($body) };
    return ref $d eq 'HASH' && ref $d->{error} eq 'HASH'
        ? $d->{error}{code} : '';
}

# the type of the first text message
sub first {
    my ($ws) = @_;
    my $f = $ws->read_frame(5);
    return '' unless ref $f && $f->{opcode} == Race::WS::TEXT;
    return ($json->decode($f->{payload}) || {})->{type} // '';
}

resp_command($rport, 'HSET', "race:$_:state", 'p1',
    '{"rider":"p1","lat":45.1,"lon":7.6,"t":1000}') for qw(pub priv adhoc);
meta('pub', public => 1);
meta('priv', public => 0);
meta('other', public => 0);


# public races and races with no meta: anyone

my ($st, $body, $auth, $ws) = watch('pub');
is($st, 101, 'a public race, no token: 101');
is(first($ws), 'snapshot', 'its snapshot');
$ws->disconnect;

($st, undef, undef, $ws) = watch('adhoc');
is($st, 101, 'a race with no meta (ad-hoc), no token: 101');
is(first($ws), 'snapshot', 'its snapshot');
$ws->disconnect;

($st) = watch('pub', token => link_token('pub', secret => 'x' x 48));
is($st, 101, 'a public race ignores a token it does not need');


# a private race: a token of that race

($st, $body, $auth) = watch('priv');
is($st, 401, 'private, no token: 401');
is(code($body), 'missing_token', 'missing_token');
like($auth, qr/^Bearer/, 'with WWW-Authenticate');

my %bad = (
    'wrong key'      => link_token('priv', secret => 'x' x 48),
    'expired'        => link_token('priv', exp => time - 3600),
    'an API token'   => link_token('priv', aud => 'api'),
    'no race claim'  => link_token('priv', race => undef),
    'no token id'    => link_token('priv', jti => undef),
    'garbage'        => 'not.a.token',
);
for my $name (sort keys %bad) {
    ($st, $body, $auth) = watch('priv', token => $bad{$name});
    is($st, 401, "private, $name: 401");
    is(code($body), 'invalid_token', "$name: invalid_token");
}

($st, $body) = watch('priv', token => link_token('other'));
is($st, 403, 'private, a link of another race: 403');
is(code($body), 'wrong_race', 'wrong_race');

# the revocations are not known yet (Redis came back empty): fails closed
($st, $body) = watch('priv', token => link_token('priv'));
is($st, 503, 'revocations not loaded: 503');
is(code($body), 'unavailable', 'unavailable');
resp_command($rport, 'SET', 'race:revocations:loaded', 1);

($st, undef, undef, $ws) = watch('priv', token => link_token('priv'));
is($st, 101, 'private, its spectator link: 101');
is(first($ws), 'snapshot', 'its snapshot');
$ws->disconnect;

($st, undef, undef, $ws) = watch('priv', query => link_token('priv'));
is($st, 101, 'the link in ?access_token= (browsers): 101');
$ws->disconnect;
($st) = watch('priv', query => link_token('priv', secret => 'y' x 48));
is($st, 401, 'a bad link in ?access_token=: 401');

($st) = watch('priv', token => Race::Token::mint(secret => $secret,
    race => 'priv', rider => 'p1'));
is($st, 101, 'a rider token of that race: 101');

($st, $body) = watch('priv', token => Race::Token::mint(secret => $secret,
    race => 'other', rider => 'p1'));
is($st, 403, 'a rider token of another race: 403');

resp_command($rport, 'SET', 'race:revoked:gone-link', 1, 'EX', 3600);
($st, $body) = watch('priv', token => link_token('priv', jti => 'gone-link'));
is($st, 401, 'a revoked link: 401');
is(code($body), 'token_revoked', 'token_revoked');


# open sockets obey their tokens

my ($a_st, undef, undef, $a) = watch('priv', token => link_token('priv',
    jti => 'link-a'));
my ($b_st, undef, undef, $b) = watch('priv', token => link_token('priv',
    jti => 'link-b'));
is("$a_st $b_st", '101 101', 'two spectators of the private race');
first($_) for $a, $b;

resp_command($rport, 'SET', 'race:revoked:link-a', 1, 'EX', 3600);
resp_command($rport, 'PUBLISH', 'race:revoked', 'link-a');
my ($code, $reason) = $a->read_close(10);
is($code, 1008, 'its link revoked: the socket closes with 1008');
is($reason, 'token revoked', 'token revoked');

resp_command($rport, 'HSET', 'race:priv:state', 'p1',
    '{"rider":"p1","lat":45.2,"lon":7.6,"t":2000}');
resp_command($rport, 'PUBLISH', 'race:priv:live',
    '{"type":"tick","race":"priv","t":2000,"riders":[{"rider":"p1",'
    . '"lat":45.2,"lon":7.6,"t":2000}]}');
is(first($b), 'tick', 'the other link\'s socket stays and gets ticks');

# expiring while open: 1008 once exp and its 30 s of leeway have passed
my $exp = int(time) - 27;
my ($e_st, undef, undef, $e) = watch('priv', token => link_token('priv',
    exp => $exp));
is($e_st, 101, 'a link about to expire: 101');
($code, $reason) = $e->read_close(15);
is($code, 1008, 'its token expired while open: close 1008');
is($reason, 'token expired', 'token expired');
cmp_ok(time, '>=', $exp + 30, 'not before exp + leeway');

# a public race's socket has no token to obey
my ($p_st, undef, undef, $p) = watch('pub', token => link_token('pub',
    jti => 'pub-link'));
first($p);
resp_command($rport, 'PUBLISH', 'race:revoked', 'pub-link');
($code) = $p->read_close(1);
is($code, undef, 'a public race\'s spectator stays');


# Redis silent: whether a race is private cannot be known, nobody new in

my $pid = $t->pid('redis');
kill 'STOP', $pid;
my $stopped = 1;
END { kill 'CONT', $pid if $stopped && $pid }

my $t0 = time;
($st, $body) = watch('pub');
is($st, 503, 'Redis stalled: a public race too, 503');
is(code($body), 'unavailable', 'unavailable');
cmp_ok(time - $t0, '<', 3, sprintf('within the timeout (%.1fs)', time - $t0));
($st) = watch('priv', token => link_token('priv'));
is($st, 503, 'and a private one with its link');

kill 'CONT', $pid;
$stopped = 0;
ok(wait_for(sub { (watch('priv', token => link_token('priv')))[0] == 101 }, 20),
    'Redis back: the link gets in again');

$_->disconnect for $b, $p;


# what the logs say: why, never the token

$t->stop_nginx;
my $log = $t->read_file('error.log');
like($log, qr/live token rejected: /, 'error.log: why a token was refused');
like($log, qr{live\ token\ rejected:\ .*
              request:\ "GET\ /live/priv\?access_token=\[redacted\]\ HTTP}x,
    'error.log: the query\'s token redacted');
like($log, qr/spectator of race "priv" closed: token revoked/,
    'error.log: the closed socket');

$t->done;
