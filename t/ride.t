#!/usr/bin/perl

# /ride: the rider token, validation of every fix, acks that follow the
# broker's delivery report, and bad input of every kind answered without
# harm to the socket, the server or what is stored; an open socket closed
# with 1008 once its token expires or is revoked.  Real Kafka.

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use Time::HiRes qw(time sleep);
use Race::Test;
use Race::Util;
use Race::WS;
use Race::Token;
use Race::Engine::Kafka;
use Race::Engine::Redis;
use Race::RESP;

my $t = Race::Test->new;
my $port = $t->port;
my $kafka = $t->kafka;
my $redis = $t->redis;
my ($rport) = $redis =~ /:(\d+)$/;
my ($keyfile, $secret) = Race::Token::key_file($t);
my ($oldfile, $oldsecret) = Race::Token::key_file($t, 'old.key');

$t->nginx(listen => [$port], http => <<"EOF");
    race_kafka_brokers $kafka;
    race_kafka_topic ride.t;
    race_redis $redis;
    race_token_key k1 $keyfile;
    race_token_key k0 $oldfile;

    server {
        listen 127.0.0.1:$port;

        location /ride {
            race_ingest;
            race_ride_max_batch 500;
            race_ws_max_message 256k;
        }
    }
EOF

my %rider = (secret => $secret, race => 'r1', rider => 'p7');

sub fix {
    my (%f) = @_;
    my $seq = $f{seq};
    my $t = exists $f{t} ? $f{t} : now_ms();
    my $lat = exists $f{lat} ? $f{lat} : 45.07;
    return qq{{"type":"fix","seq":$seq,"t":$t,"lat":$lat,"lon":7.68}};
}

sub ride {
    my (%a) = @_;
    my $tok = Race::Token::mint(%rider, %a);
    return Race::WS->start(port => $port, path => $a{path} || '/ride',
        headers => ['Authorization' => "Bearer $tok"]);
}

sub status {
    my (%a) = @_;
    my $ws = Race::WS->new(port => $port);
    my $res = $ws->handshake(path => $a{path} || '/ride',
        headers => $a{headers} || []);
    return $res ? $res->{status} : 0, $res;
}

# messages until one matches, or a timeout

# tokens: 401 before the upgrade, the reason in JSON, never a socket

my ($st, $res) = status();
is($st, 401, 'no token: 401');
like($res->{body}, qr/"code":"missing_token"/, 'no token: error shape');
like(Race::WS::header($res, 'WWW-Authenticate') || '', qr/^Bearer/,
    'no token: WWW-Authenticate');

my %bad = (
    'alg none'       => Race::Token::mint(%rider, alg => 'none', sig => ''),
    'alg HS512'      => Race::Token::mint(%rider, alg => 'HS512'),
    'wrong key'      => Race::Token::mint(%rider, secret => 'x' x 48),
    'expired'        => Race::Token::mint(%rider, exp => time - 3600),
    'not yet valid'  => Race::Token::mint(%rider, nbf => time + 3600),
    'wrong audience' => Race::Token::mint(%rider, aud => 'api'),
    'wrong issuer'   => Race::Token::mint(%rider, iss => 'someone'),
    'unknown kid'    => Race::Token::mint(%rider, kid => 'k9'),
    'no race claim'  => Race::Token::mint(%rider, race => undef),
    'no token id'    => Race::Token::mint(%rider, jti => undef),
    'garbage'        => 'not.a.token',
);

for my $name (sort keys %bad) {
    my ($s, $r) = status(headers => ['Authorization' => "Bearer $bad{$name}"]);
    is($s, 401, "$name: 401");
    like($r && $r->{body}, qr/"code":"invalid_token"/, "$name: error shape");
}

my $tampered = Race::Token::mint(%rider);
$tampered =~ s/^([^.]+\.)(.)/$1 . ($2 eq 'A' ? 'B' : 'A')/e;
is((status(headers => ['Authorization' => "Bearer $tampered"]))[0], 401,
    'tampered payload: 401');

# no race-accounts here: until someone says every revocation is in Redis
# (it may have come back empty), no rider gets in
($st, $res) = status(headers => ['Authorization' => 'Bearer '
    . Race::Token::mint(%rider)]);
is($st, 503, 'revocations not loaded: 503, fails closed');
like($res->{body}, qr/"code":"unavailable"/, 'not loaded: error shape');
Race::Engine::Redis::revocations_loaded($rport);

is((status(path => '/ride?access_token='
    . Race::Token::mint(%rider)))[0], 101, 'token in the query: 101');
is((status(path => '/ride', headers => ['Authorization' => 'Bearer '
    . Race::Token::mint(%rider, secret => $oldsecret, kid => 'k0')]))[0],
    101, 'older key id still verifies (rotation)');

# a revoked token (its rider taken off the race) is refused
my $revoked = Race::Token::mint(%rider, jti => 'revoked-one');
Race::Engine::Redis::command($rport, 'SET', 'race:revoked:revoked-one', 1);
($st, $res) = status(headers => ['Authorization' => "Bearer $revoked"]);
is($st, 401, 'a revoked rider token: 401');
like($res->{body}, qr/"code":"token_revoked"/, 'revoked: error shape');

($st, $res) = status(path => '/ride?race=r2',
    headers => ['Authorization' => 'Bearer ' . Race::Token::mint(%rider)]);
is($st, 403, 'a token for another race: 403');
like($res->{body}, qr/"code":"wrong_race"/, 'another race: error shape');


# fixes: acks after delivery, errors for bad ones, the socket stays open

my $ws = ride();

$ws->send_frame(Race::WS::TEXT, fix(seq => 1));
my ($ack) = read_until($ws, qr/"ack"/, 30);
is($ack, '{"type":"ack","seq":1}', 'a fix is acked');

$ws->send_frame(Race::WS::TEXT, fix(seq => 1));
($ack) = read_until($ws, qr/"ack"/, 10);
is($ack, '{"type":"ack","seq":1}', 'a repeated fix is acked again');

my @cases = (
    [ 'malformed JSON', '{"type":"fix","seq":2,', qr/"code":"bad_message"/ ],
    [ 'not an object', '[1,2]', qr/"code":"bad_message"/ ],
    [ 'unknown type', '{"type":"hello"}', qr/"code":"bad_message"/ ],
    [ 'seq as a string',
      '{"type":"fix","seq":"3","t":' . now_ms() . ',"lat":1,"lon":1}',
      qr/"code":"bad_fix".*seq/ ],
    [ 'lat out of range', fix(seq => 4, lat => 90.5),
      qr/"seq":4,"code":"bad_fix".*lat/ ],
    [ 'lat not a number',
      '{"type":"fix","seq":5,"t":' . now_ms() . ',"lat":"x","lon":1}',
      qr/"seq":5,"code":"bad_fix"/ ],
    [ 'time far in the future', fix(seq => 6, t => now_ms() + 3600_000),
      qr/"seq":6,"code":"bad_fix".*future/ ],
    [ 'seq missing', '{"type":"fix","t":' . now_ms() . ',"lat":1,"lon":1}',
      qr/"code":"bad_fix".*seq/ ],
    [ 'empty batch', '{"type":"fixes","items":[]}', qr/"code":"bad_message"/ ],
    [ 'batch over 500',
      '{"type":"fixes","items":[' . join(',', map { fix(seq => 100 + $_) }
          1 .. 501) . ']}',
      qr/"code":"bad_message"/ ],
);

for my $c (@cases) {
    my ($name, $msg, $re) = @$c;
    $ws->send_frame(Race::WS::TEXT, $msg);
    my ($err) = read_until($ws, qr/"error"/, 10);
    like($err || '', $re, "$name: error message");
}

# a batch with good and bad fixes: errors for the bad, one ack for the rest

$ws->send_frame(Race::WS::TEXT, '{"type":"fixes","items":['
    . join(',', fix(seq => 10), fix(seq => 11, lat => -91), fix(seq => 12))
    . ']}');
my @seen;
my $got = read_until($ws, qr/"ack"/, 30, \@seen);
is($got, '{"type":"ack","seq":12}', 'mixed batch: one ack, highest seq');
ok((grep { /"seq":11,"code":"bad_fix"/ } @seen), 'mixed batch: bad one told');

# after all that the socket still works
$ws->send_frame(Race::WS::TEXT, fix(seq => 13));
($ack) = read_until($ws, qr/"ack"/, 30);
is($ack, '{"type":"ack","seq":13}', 'socket unharmed after bad input');

# a binary frame is not a fix: 1003
$ws->send_frame(Race::WS::BINARY, "\x01\x02");
my ($code) = $ws->read_close(10);
is($code, 1003, 'binary message: close 1003');

# a message over race_ws_max_message: 1009
$ws = ride();
$ws->send_frame(Race::WS::TEXT, '{"type":"fixes","items":[' . ('x' x 300000));
($code) = $ws->read_close(10);
is($code, 1009, 'oversized message: close 1009');


# an open socket obeys its token

# revoked while open: closed at once with 1008, without a message of
# the phone's to wait for; a fix sent after that is never taken.  (One
# sent right after the PUBLISH may reach nginx before the revocation
# does, on another connection: no order holds between the two.)
$ws = ride(jti => 'open-revoked');
$ws->send_frame(Race::WS::TEXT, fix(seq => 30));
($ack) = read_until($ws, qr/"ack"/, 30);
is($ack, '{"type":"ack","seq":30}', 'a ride before its revocation: acked');

resp_command($rport, 'SET', 'race:revoked:open-revoked', 1, 'EX', 3600);
cmp_ok(resp_command($rport, 'PUBLISH', 'race:revoked', 'open-revoked'),
    '>=', 1, 'the revocation reaches nginx');
my ($close, $reason, $before) = $ws->read_close(10);
is($close, 1008, 'revoked while open: close 1008 at once');
is($reason, 'token revoked', 'with the reason');
{
    local $SIG{PIPE} = 'IGNORE';
    eval { $ws->send_frame(Race::WS::TEXT, fix(seq => 31)) };
}
ok(!grep({ $_->{payload} =~ /"ack"/ } @$before),
    'nothing acked after it (and Kafka never gets that fix: below)');

# another rider's socket is not touched
my $other = ride(jti => 'still-good');
resp_command($rport, 'PUBLISH', 'race:revoked', 'someone-else');
$other->send_frame(Race::WS::TEXT, fix(seq => 32));
($ack) = read_until($other, qr/"ack"/, 30);
is($ack, '{"type":"ack","seq":32}', 'another revocation: the socket stays');

# expiring while open: 1008 once exp + the 30 s of leeway have passed
my $exp = int(time) - 27;
$ws = ride(jti => 'expiring', exp => $exp);
$ws->send_frame(Race::WS::TEXT, fix(seq => 33));
($ack) = read_until($ws, qr/"ack"/, 30);
is($ack, '{"type":"ack","seq":33}', 'a token about to expire: still acked');
($close, $reason) = $ws->read_close(15);
is($close, 1008, 'token expired while open: close 1008');
is($reason, 'token expired', 'with the reason');
cmp_ok(time, '>=', $exp + 30, 'not before exp + leeway');


# what Kafka has: only the good fixes, keyed by the race

my $dump = `$ENV{RACE_BUILD}/t/kafka_dump $kafka ride.t 2>&1`;
my @msgs = grep { /^r1\t/ } split /\n/, $dump;
my @seqs = sort { $a <=> $b } map { /"seq":(\d+)/g } @msgs;
is("@seqs", '1 1 10 12 13 30 32 33', 'Kafka holds the good fixes only')
    or diag($dump);
like($msgs[0] || '', qr/^r1\t\{"race":"r1","rider":"p7","recv":\d+,"fixes":\[/,
    'Kafka message: keyed by race, INTERNALS.md shape');


# a broker outage: no acks, never a false one; back: the acks come

Race::Engine::Kafka::stop($t);

$ws = ride();
$ws->send_frame(Race::WS::TEXT, fix(seq => 20));
($got) = read_until($ws, qr/"ack"/, 4);
is($got, undef, 'broker down: no ack');

$t->kafka;

($got) = read_until($ws, qr/"ack"/, 60);
is($got, '{"type":"ack","seq":20}', 'broker back: the fix is acked');


# revoked while Redis was away: found when it is back, once the
# revocations are loaded again; meanwhile no one new gets in

$ws = ride(jti => 'revoked-offline');
$other->send_frame(Race::WS::TEXT, fix(seq => 40));
($ack) = read_until($other, qr/"ack"/, 30);
is($ack, '{"type":"ack","seq":40}', 'a second ride is open');

Race::Engine::Redis::stop($t);
$t->redis;
resp_command($rport, 'SET', 'race:revoked:revoked-offline', 1, 'EX', 3600);

my $end = time + 30;
sleep 0.1 while time < $end
    && (resp_command($rport, 'PUBSUB', 'NUMSUB', 'race:revoked')->[1] // 0)
       < 1;
ok(time < $end, 'nginx subscribes again');

($close) = $ws->read_close(1.5);
is($close, undef, 'Redis back empty: open rides wait for the revocations');
is((status(headers => ['Authorization' => 'Bearer '
    . Race::Token::mint(%rider)]))[0], 503, 'and no new one gets in');

Race::Engine::Redis::revocations_loaded($rport);
($close, $reason) = $ws->read_close(10);
is($close, 1008, 'revoked while Redis was away: close 1008 once loaded');
$other->send_frame(Race::WS::TEXT, fix(seq => 41));
($ack) = read_until($other, qr/"ack"/, 30);
is($ack, '{"type":"ack","seq":41}', 'a good ride stays open through it');

$t->done;
