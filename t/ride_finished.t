#!/usr/bin/perl

# /ride and the race's status (race:race:<id>:meta, written by
# race-accounts; here straight into Redis): a finished race refuses new
# rides with 403 race_finished, but only once race_ride_after_finish has
# passed since finished_at, so phones deliver what they kept through
# dead zones; a race not finished, or with no meta at all (an ad-hoc
# race), takes rides; an open ride is not closed when its race
# finishes.  Real Kafka: the fixes after the finish are acked.

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use Time::HiRes qw(time);
use Race::Test;
use Race::Util;
use Race::WS;
use Race::Token;
use Race::RESP;
use Race::Engine::Redis;

my $t = Race::Test->new;
my $port = $t->port;
my $kafka = $t->kafka;
my $redis = $t->redis;
my ($rport) = $redis =~ /:(\d+)$/;
my ($keyfile, $secret) = Race::Token::key_file($t);
Race::Engine::Redis::revocations_loaded($rport);

$t->nginx(listen => [$port], http => <<"EOF");
    race_kafka_brokers $kafka;
    race_kafka_topic ride_finished.t;
    race_redis $redis;
    race_token_key k1 $keyfile;

    server {
        listen 127.0.0.1:$port;

        # the default grace, an hour
        location = /ride {
            race_ingest;
        }

        location = /ride/none {
            race_ingest;
            race_ride_after_finish 0;
        }

        location = /ride/short {
            race_ingest;
            race_ride_after_finish 2s;
        }
    }
EOF

sub meta {
    my ($race, %m) = @_;
    resp_command($rport, 'DEL', "race:race:$race:meta");
    resp_command($rport, 'HSET', "race:race:$race:meta", status => 'live',
        public => 1, owner => 'u1', start_at => now_ms() - 7200_000,
        finished_at => 0, %m);
}

sub token {
    my ($race, %a) = @_;
    return Race::Token::mint(secret => $secret, race => $race,
        rider => 'p1', %a);
}

sub status {
    my ($race, %a) = @_;
    my $ws = Race::WS->new(port => $port);
    my $res = $ws->handshake(path => $a{path} || '/ride',
        headers => ['Authorization' => 'Bearer '
            . ($a{token} || token($race))]);
    $ws->disconnect;
    return ($res ? $res->{status} : 0, $res ? $res->{body} : '');
}

my $seq = 0;
sub fix_acked {
    my ($ws) = @_;
    my $s = ++$seq;
    $ws->send_frame(Race::WS::TEXT, '{"type":"fix","seq":' . $s . ',"t":'
        . now_ms() . ',"lat":45.07,"lon":7.68}');
    return read_until($ws, qr/"ack"/, 30) || '';
}


# races that take rides

my ($st, $body) = status('adhoc');
is($st, 101, 'a race with no meta (ad-hoc): 101');

meta('going', status => 'live');
is((status('going'))[0], 101, 'a live race: 101');
meta('soon', status => 'scheduled');
is((status('soon'))[0], 101, 'a scheduled race: 101');


# finished: the grace, then 403

meta('done', status => 'finished', finished_at => now_ms() - 600_000);
is((status('done'))[0], 101,
    'finished 10 minutes ago, within the default hour: 101');

($st, $body) = status('done', path => '/ride/none');
is($st, 403, 'the same race where race_ride_after_finish is 0: 403');
like($body, qr/"code":"race_finished"/, 'race_finished, in the shape');

meta('long', status => 'finished', finished_at => now_ms() - 7200_000);
($st, $body) = status('long');
is($st, 403, 'finished two hours ago: 403');
like($body, qr/"code":"race_finished"/, 'race_finished');

meta('unknown', status => 'finished', finished_at => 0);
is((status('unknown'))[0], 403, 'finished with no finish time: 403');

# a revoked token is told so first
resp_command($rport, 'SET', 'race:revoked:gone-one', 1, 'EX', 3600);
($st, $body) = status('long', token => token('long', jti => 'gone-one'));
is($st, 401, 'a revoked token for a finished race: 401');
like($body, qr/"code":"token_revoked"/, 'token_revoked');

# the grace runs out while the phone waits
meta('edge', status => 'finished', finished_at => now_ms());
is((status('edge', path => '/ride/short'))[0], 101,
    'just finished, 2s of grace: 101');
ok(wait_for(sub { (status('edge', path => '/ride/short'))[0] == 403 },
    10, 0.25), 'once the 2s have passed: 403');


# within the grace the late fixes are taken and acked

meta('late', status => 'finished', finished_at => now_ms() - 60_000);
my $ws = Race::WS->start(port => $port, path => '/ride',
    headers => ['Authorization' => 'Bearer ' . token('late')]);
is(fix_acked($ws), '{"type":"ack","seq":1}',
    'a fix kept through a dead zone, sent after the finish: acked');
$ws->disconnect;


# an open ride is not closed when its race finishes

meta('ending', status => 'live');
$ws = Race::WS->start(port => $port, path => '/ride',
    headers => ['Authorization' => 'Bearer ' . token('ending')]);
is(fix_acked($ws), '{"type":"ack","seq":2}', 'riding a live race');

meta('ending', status => 'finished', finished_at => now_ms() - 7200_000);
is((status('ending'))[0], 403, 'the race finished: a new ride gets 403');
is(fix_acked($ws), '{"type":"ack","seq":3}',
    'the open ride still sends, and is acked');
my ($code) = $ws->read_close(1);
is($code, undef, 'and is not closed');

$t->done;
