#!/usr/bin/perl

# No token in any log.  Browsers open WebSockets with ?access_token=
# (they cannot set headers there): /ride and /live take it, and what
# nginx logs of those requests, at info, shows it redacted.  The API
# refuses it: the cookie serves browsers there.  The harness then checks
# every log of this test for every token it minted (Race::Test).

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use HTTP::Tiny;
use IO::Socket::INET;
use JSON::PP;
use Race::Test;
use Race::WS;
use Race::Token;
use Race::Engine::Redis;

my $t = Race::Test->new;
my $port = $t->port;
my $redis = $t->redis;
my ($rport) = $redis =~ /:(\d+)$/;
# no race-accounts here: the revocations are loaded, as it would say
Race::Engine::Redis::revocations_loaded($rport);
my ($keyfile, $secret) = Race::Token::key_file($t);
my $root = $t->root;

# Kafka is not reached by anything here: a port with no broker will do
my $kafka = '127.0.0.1:' . $t->port;

$t->nginx(listen => [$port], log_level => 'info', http => <<"EOF");
    race_kafka_brokers $kafka;
    race_redis $redis;
    race_token_key k1 $keyfile;
    race_auth_common_passwords $root/conf/common-passwords.txt;

    server {
        listen 127.0.0.1:$port;

        race_ws_allow_origin http://good.example;

        location = /ride {
            race_ingest;
        }

        location /live/ {
            race_live;
        }

        location /api/ {
            race_api;
        }
    }
EOF

my %rider = (secret => $secret, race => 'r1', rider => 'p7');
my $json = JSON::PP->new;

sub handshake {
    my (%a) = @_;
    my $ws = Race::WS->new(port => $port);
    my $res = $ws->handshake(%a);
    return ($res ? $res->{status} : 0, $res, $ws);
}

sub code {
    my ($res) = @_;
    my $d = eval { $json->decode($res->{body} // $res->{content}) };
    return ref $d eq 'HASH' && ref $d->{error} eq 'HASH'
        ? $d->{error}{code} : '';
}


# /ride: the query's token is taken, and whatever nginx logs of the
# request (each of these is logged at info) has it redacted

my $good = Race::Token::mint(%rider);
my ($st, $res, $ws) = handshake(path => "/ride?race=r1&access_token=$good");
is($st, 101, '/ride: a token in the query is accepted');
$ws->send_frame(Race::WS::TEXT, 'x', mask => 0);   # a protocol error
$ws->read_frame(2);
$ws->disconnect;

($st, $res) = handshake(path => '/ride?access_token='
    . Race::Token::mint(%rider, secret => 'z' x 48));
is($st, 401, '/ride: a bad token in the query: 401');
is(code($res), 'invalid_token', '/ride: bad token: error shape');

($st) = handshake(path => '/ride?Access_Token='
    . Race::Token::mint(%rider, exp => time - 3600));
is($st, 401, '/ride: the name is not case-sensitive');

($st) = handshake(path => '/ride?access_token=' . Race::Token::mint(%rider)
    . '&x=1&access_token=' . Race::Token::mint(%rider, rider => 'p8'),
    origin => 'http://evil.example');
is($st, 403, '/ride: a page of another origin: 403');

my $revoked = Race::Token::mint(%rider, jti => 'revoked-in-logs');
Race::Engine::Redis::command($rport, 'SET', 'race:revoked:revoked-in-logs', 1);
($st) = handshake(path => "/ride?access_token=$revoked");
is($st, 401, '/ride: a revoked token in the query: 401');


# /live: spectators' pages send one too

($st, $res, $ws) = handshake(path => '/live/r1?access_token='
    . Race::Token::mint(%rider, aud => 'live'), origin => 'http://good.example');
is($st, 101, '/live: a token in the query is let through');
$ws->send_frame(Race::WS::TEXT, 'x', mask => 0);
$ws->read_frame(2);
$ws->disconnect;

($st) = handshake(path => '/live/r1?access_token='
    . Race::Token::mint(%rider, aud => 'live'), origin => 'http://evil.example');
is($st, 403, '/live: a page of another origin: 403');


# /api: never in the query

my $ua = HTTP::Tiny->new(timeout => 10);
my $api = Race::Token::mint(secret => $secret, aud => 'api', rider => 'u1');

for my $path ("/api/me?access_token=$api", "/api/me?a=1&ACCESS_TOKEN=$api") {
    my $r = $ua->get("http://127.0.0.1:$port$path");
    is($r->{status}, 400, "$path: 400");
    is(code($r), 'token_in_query', 'the error says why');
    like($r->{headers}{'content-type'} || '', qr{^application/json},
        'in JSON');
}

my $r = $ua->post("http://127.0.0.1:$port/api/auth/login?access_token=$api",
    { headers => { 'Content-Type' => 'application/json' },
      content => '{"email":"a@example.org","password":"x"}' });
is($r->{status}, 400, 'login with a query token: 400');

$r = $ua->get("http://127.0.0.1:$port/api/me",
    { headers => { Authorization => "Bearer $api" } });
isnt($r->{status}, 400, 'the header is still the way');


# a request nginx refuses while reading its headers (400), before the
# module: the access log's map (as in conf/*.conf) leaves the token out.
# The error log's line of it, at info, is nginx's alone and still has
# it, so this one is a made-up value, not a token the harness checks.

my $early = 'early' . int(rand(1e9)) . 'x' x 20;
my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
    Proto => 'tcp', Timeout => 5) or die "connect: $!\n";
print $s "GET /ride?race=r1&access_token=$early&x=1 HTTP/1.1\r\n"
    . "Host: localhost\r\nBad\x01Header: x\r\n\r\n";
my $answer = join '', <$s>;
like($answer, qr{^HTTP/1\.1 400}, 'a malformed header: 400');
close $s;


# what the logs say instead: the lines are there, the tokens are not

$t->stop_nginx;

my $log = $t->read_file('error.log');
like($log, qr/ride token rejected.*request: "GET \/ride\?access_token=\[redacted\] HTTP\/1\.1"/,
    'error.log: the rejected token\'s request, redacted');
like($log, qr/request: "GET \/ride\?access_token=\[redacted\]&x=1&access_token=\[redacted\] HTTP/,
    'error.log: every access_token in a line is');
like($log, qr/request: "GET \/ride\?Access_Token=\[redacted\] HTTP/,
    'error.log: in any case');
like($log, qr/request: "GET \/live\/r1\?access_token=\[redacted\] HTTP/,
    'error.log: /live too');
like($log, qr/request: "GET \/ride\?race=r1&access_token=\[redacted\] HTTP/,
    'error.log: the other arguments are kept');

my $access = $t->read_file('access.log');
like($access, qr/"GET \/ride\?race=r1&access_token=\[redacted\] HTTP/,
    'access.log: redacted, the other arguments kept');
like($access, qr/"GET \/ride\?race=r1&access_token=\[redacted\] HTTP\/1\.1" 400 /,
    'access.log: redacted before the module too');
unlike($access, qr/\Q$early\E/, 'access.log: nothing of it');

$t->done;
