#!/usr/bin/perl

# A fatal error of the idempotent producer (librdkafka's
# rd_kafka_test_fatal_error(), through race_kafka_test_fatal of test
# builds) does not leave the worker failing until a reload: what was in
# flight is refused (phones get 1013), a new producer is made, and the
# same worker process acks fixes and takes account commands again.
# Real Kafka, Redis, FerretDB and race-accounts.

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
use Race::Token;
use Race::WS;
use Race::Engine::Kafka;

my $t = Race::Test->new;
my $p = Race::Platform->start($t, accounts => 1, no_tracker => 1,
    locations => <<'EOF');
        location = /test/kafka-fatal {
            race_kafka_test_fatal;
        }
EOF
my $port = $p->port;
my $json = JSON::PP->new->canonical;
my $ua = HTTP::Tiny->new(timeout => 30);

sub ride {
    my $tok = Race::Token::mint(secret => $p->secret, race => 'r1',
        rider => 'p1');
    return Race::WS->start(port => $port, path => '/ride',
        headers => ['Authorization' => "Bearer $tok"]);
}

sub fix {
    my ($seq) = @_;
    my $ms = now_ms();
    return qq{{"type":"fix","seq":$seq,"t":$ms,"lat":45.07,"lon":7.68}};
}

my $n = 0;
sub signup {
    my $email = 'rider' . ++$n . '.' . int(rand(1e9)) . '@example.org';
    my $res = $ua->request(POST => "http://127.0.0.1:$port/api/auth/signup",
        { headers => { 'Content-Type' => 'application/json' },
          content => $json->encode({ email => $email, name => "Rider $n",
              password => 'correct horse battery staple ' . rand }) });
    return $res->{status};
}

sub worker_pids {
    my $master = $t->pid('nginx');
    my @pids;
    for my $stat (glob '/proc/[0-9]*/stat') {
        my $s = $t->read_file($stat) or next;
        my ($pid, $ppid) = $s =~ /^(\d+) \(.*\) \S (\d+)/ or next;
        push @pids, $pid if $ppid == $master;
    }
    return join ',', sort @pids;
}

# a log line appears, within a bounded wait
sub logged {
    my ($re, $secs) = @_;
    my $end = time + $secs;
    while (time < $end) {
        return 1 if $t->read_file('error.log') =~ $re;
        sleep 0.1;
    }
    return 0;
}


my $ws = ride();
$ws->send_frame(Race::WS::TEXT, fix(1));
is(read_until($ws, qr/"ack"/, 30), '{"type":"ack","seq":1}', 'a fix is acked');
is(signup(), 201, 'a signup is taken');

my $workers = worker_pids();
ok($workers, "the worker ($workers)");

# a fix in flight: the broker is away
Race::Engine::Kafka::stop($t);
$ws->send_frame(Race::WS::TEXT, fix(2));
is(read_until($ws, qr/"ack"/, 3), undef, 'broker down: no ack');

# the producer fails for good
my $res = $ua->get("http://127.0.0.1:$port/test/kafka-fatal");
is($res->{status}, 204, 'a fatal producer error is raised');
my $fatal = 'race: kafka fatal error: OUT_OF_ORDER_SEQUENCE_NUMBER: ';
ok(logged(qr/\Q$fatal\E.*race_kafka_test_fatal/, 10),
    'the fatal error is logged');

my ($code) = $ws->read_close(10);
is($code, 1013, 'the phone with a fix in flight: 1013, send it again');

ok(logged(qr/race: kafka producer replaced after a fatal error/, 10),
    'a new producer is made');

$t->kafka;

# the same worker, no reload: fixes and account commands go through again
$ws = ride();
$ws->send_frame(Race::WS::TEXT, fix(2));
is(read_until($ws, qr/"ack"/, 60), '{"type":"ack","seq":2}',
    'the fix sent again is acked');
# race-accounts rejoins its group after the broker's restart in its own
# time: until then a signup gets 503, which means not applied (README,
# "Floods and stalls"), so it is asked again
ok(wait_for(sub { signup() == 201 }, 90, 1), 'a signup is taken again');
is(worker_pids(), $workers, 'by the same worker process');

# and a second fatal error is survived as well, with the broker up
$res = $ua->get("http://127.0.0.1:$port/test/kafka-fatal");
is($res->{status}, 204, 'a second fatal error');
$ws = ride();
$ws->send_frame(Race::WS::TEXT, fix(3));
is(read_until($ws, qr/"ack"/, 60), '{"type":"ack","seq":3}',
    'acked after the second one too');

$t->done;
