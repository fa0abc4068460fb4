#!/usr/bin/perl

# The workers' metrics and liveness, each on a port of its own
# (metrics_listen, port 0 here: the log says which): race-tracker's
# /metrics read by the Prometheus client library's own parser, its
# consumed counter reaching what was sent, the lag of each partition
# shown and back to 0 once written, histograms with cumulative buckets
# and a _count equal to +Inf; the same for race-accounts with its
# commands by type and outcome.  /healthz: 200 while the main loop
# turns, also while it retries a Redis that is down (a restart would
# not help), 503 while it is stuck in a call to a Redis that does not
# answer, 200 again after.  /readyz: 200 while the worker holds
# partitions (race-accounts: and has reached MongoDB and Redis), 503
# for a second member of a group whose one partition the first holds,
# saying why, and race_worker_ready with it.  Other paths 404, other
# methods 405, a request line too long 414, a silent client dropped,
# none of them in the way of the next scrape.  A bad metrics_listen refused at once.

use strict;
use warnings;

use lib 't/lib';
use IO::Select;
use IO::Socket::INET;
use JSON::PP;
use Test::More;
use Time::HiRes qw(sleep time);
use Race::Test;
use Race::Util;
use Race::Worker;

my $t = Race::Test->new;
my $dir = $t->dir;

my $tracker = $t->build . '/workers/race-tracker';
my $accounts = $t->build . '/workers/race-accounts';
my $produce = $t->build . '/t/kafka_produce';
my $check = $t->root . '/t/tools/prom_check.py';

for ($tracker, $accounts, $produce) {
    die "no $_: build it first (make -C workers and make -C t, "
        . "BUILD=...)\n" unless -x $_;
}

my $json = JSON::PP->new->canonical;
my $python = $t->python;

sub run { run_tool($t, @_) }

###############################################################################
# settings: a bad address is refused before anything is connected

my @nowhere = ('--set', 'kafka_brokers=127.0.0.1:1',
    '--set', 'mongo_uri=mongodb://127.0.0.1:1/', '--set', 'redis_port=1');

for my $bad (['127.0.0.1', qr/is not host:port/],
    ['::1:9464', qr/has an IPv6 address not in brackets/],
    ['127.0.0.1:70000', qr/has no port 0\.\.65535/])
{
    my ($rc, $out) = run([$tracker, @nowhere, '--set',
        "metrics_listen=$bad->[0]"], env => $t->san_env('metrics-conf'),
        timeout => 20);
    is($rc, 2, "metrics_listen $bad->[0]: exit 2") or diag($out);
    like($out, qr/metrics_listen: "\Q$bad->[0]\E" $bad->[1]/,
        "metrics_listen $bad->[0]: named and quoted");
}

my ($rc, $out) = run([$tracker, @nowhere, '--set',
    'liveness_timeout_ms=50'], env => $t->san_env('metrics-conf'));
like($out, qr/liveness_timeout_ms: "50" is out of range/,
    'liveness_timeout_ms has bounds');

###############################################################################
# HTTP by hand: the request as given, the answer to its end

# (status, headers, body) of what the server answered, or () if nothing
sub http {
    my ($port, $req, $secs) = @_;

    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
        PeerPort => $port, Proto => 'tcp', Timeout => 5) or return;
    $s->autoflush(1);
    print $s $req;

    my ($buf, $sel, $end) = ('', IO::Select->new($s), time + ($secs || 10));
    while (time < $end) {
        last unless $sel->can_read($end - time);
        my $n = sysread($s, $buf, 65536, length $buf);
        last unless $n;
    }
    close $s;

    my ($head, $body) = split /\r\n\r\n/, $buf, 2;
    return unless defined $head && $head =~ m{^HTTP/1\.1 (\d{3}) };
    return ($1, $head, $body // '');
}

sub get { http($_[0], "GET $_[1] HTTP/1.1\r\nHost: x\r\n\r\n") }

# the port a worker logged: "metrics listening on 127.0.0.1:N"
sub metrics_port {
    my ($log) = @_;
    my $port;
    wait_for(sub {
        ($port) = $t->read_file($log)
            =~ /metrics listening on 127\.0\.0\.1:(\d+)/;
        $port;
    }, 30);
    return $port;
}

# /metrics parsed by prom_check.py: { family => type }, { sample => value }
# (a sample as name{a="x",b="y"}, labels sorted), and the text; undef if
# the parser refused it
sub scrape {
    my ($port) = @_;

    my ($status, $head, $body) = get($port, '/metrics');
    return unless defined $status && $status == 200;

    my ($rc, $parsed, $err) = run_tool($t, [$python, $check],
        stdin => $body, split_err => 1);
    if ($rc != 0) {
        diag("prom_check: $err");
        return;
    }

    my (%types, %v);
    for (split /\n/, $parsed) {
        if (/^  (\S+) (\S+)$/) {
            $v{$1} = $2 + 0;
        } elsif (/^(\S+) (\S+) \d+$/) {
            $types{$1} = $2;
        }
    }

    return { types => \%types, v => \%v, text => $body, head => $head };
}

# the samples of name (a family's sample name) as label string => value
sub samples {
    my ($m, $name) = @_;
    my %s;
    for (keys %{$m->{v}}) {
        $s{$1} = $m->{v}{$_} if /^\Q$name\E\{(.*)\}$/;
    }
    return \%s;
}

# the histogram name's buckets are cumulative, +Inf is _count
sub histogram_ok {
    my ($m, $name, $labels) = @_;

    my $bk = samples($m, "${name}_bucket");
    my @le = map { /le="([^"]+)"/ ? [$1, $bk->{$_}] : () }
        grep { index($_, $labels) >= 0 } keys %$bk;
    @le = sort { ($a->[0] eq '+Inf' ? 9**9**9 : $a->[0])
        <=> ($b->[0] eq '+Inf' ? 9**9**9 : $b->[0]) } @le;

    my $up = 1;
    for my $i (1 .. $#le) {
        $up = 0 if $le[$i][1] < $le[$i - 1][1];
    }

    ok(@le > 2 && $up, "$name: buckets are cumulative");
    is($le[-1][0], '+Inf', "$name: the last bucket is +Inf");
    my $count = samples($m, "${name}_count");
    is($count->{$labels}, $le[-1][1], "$name: _count is the +Inf bucket");
    ok(defined samples($m, "${name}_sum")->{$labels}, "$name: a _sum");

    return $count->{$labels} // 0;
}

###############################################################################
# the servers and a tracker with metrics

my $redis = $t->redis;
my ($rport) = $redis =~ /:(\d+)$/;
my $kafka = $t->kafka;
my $mongo = $t->ferretdb;

my $T0 = 1732400000000;
my (@lines, $nfixes);

for my $race (qw(m1 m2 m3 m4 m5 m6)) {
    for my $rider (qw(a b c)) {
        for my $seq (1 .. 3) {
            my @fixes = map { { seq => $seq * 10 + $_,
                t => $T0 + $seq * 10_000 + $_ * 1000,
                lat => 45 + $seq / 1000, lon => 7.5 } } 1 .. $seq;
            $nfixes += @fixes;
            push @lines, "$race\t" . $json->encode({ race => $race,
                rider => $rider, recv => $T0 + $seq * 10_000 + 5000,
                fixes => \@fixes });
        }
    }
}

push @lines, "m1\tnot json";

($rc, $out) = run([$produce, $kafka, 'race.fixes'],
    stdin => join('', map { "$_\n" } @lines));
is($rc, 0, 'produced ' . @lines . ' messages') or diag($out);

sub tracker_argv {
    my (%set) = @_;
    return [$tracker, tracker_args(kafka_brokers => $kafka,
        mongo_uri => $mongo, redis_port => $rport,
        metrics_listen => '127.0.0.1:0', %set)];
}

my $log = start_worker($t, 'tracker', tracker_argv(
    liveness_timeout_ms => 3000, redis_timeout_ms => 30000));
my $port = metrics_port($log);
ok($port, 'the tracker logged its metrics port') or BAIL_OUT('no port');

my $m;
ok(wait_for(sub {
    $m = scrape($port);
    $m && ($m->{v}{'race_worker_messages_consumed_total{worker="tracker"}'}
        // 0) == @lines;
}, 60), 'the consumed counter reaches the messages sent')
    or diag($m ? $m->{text} : 'no scrape');

like($m->{head},
    qr{^Content-Type: text/plain; version=0\.0\.4; charset=utf-8\r?$}mi,
    'Prometheus text 0.0.4');
is($m->{types}{race_worker_messages_consumed}, 'counter',
    'the parser reads a counter');
is($m->{types}{race_tracker_batch_fixes}, 'histogram', 'and a histogram');
is($m->{types}{race_worker_kafka_consumer_lag}, 'gauge', 'and the lag');
is($m->{v}{'race_worker_messages_malformed_total{worker="tracker"}'}, 1,
    'the malformed message counted');

# the lag of each partition, 0 once every batch is written

my $lag;
ok(wait_for(sub {
    $m = scrape($port) or return 0;
    $lag = samples($m, 'race_worker_kafka_consumer_lag');
    keys %$lag == 3 && !grep { $_ != 0 } values %$lag;
}, 30), 'the lag of each of the 3 partitions is shown, and drops to 0')
    or diag(explain($lag));
ok(!grep({ !/^partition="[012]",topic="race\.fixes",worker="tracker"$/ }
    keys %$lag), 'labelled by topic, partition and worker')
    or diag(explain($lag));

ok(wait_for(sub {
    $m = scrape($port) or return 0;
    ($m->{v}{'race_tracker_fixes_stored_total{}'} // 0) == $nfixes;
}, 30), "the $nfixes fixes counted stored");

my $n = histogram_ok($m, 'race_tracker_batch_fixes', '');
ok($n >= 1, "$n batches");
is(samples($m, 'race_tracker_batch_fixes_sum')->{''}, $nfixes,
    'their sizes add up to the fixes sent');
ok(histogram_ok($m, 'race_worker_mongodb_write_seconds',
    'worker="tracker"') >= 1, 'MongoDB writes timed');
ok(histogram_ok($m, 'race_worker_redis_write_seconds',
    'worker="tracker"') >= 1, 'Redis writes timed');
ok(histogram_ok($m, 'race_tracker_tick_seconds', '') >= 1, 'ticks timed');
like($m->{text}, qr/^race_worker_mongodb_write_seconds_bucket
    \{worker="tracker",le="0\.0005"\}\ \d+$/mx, 'le in seconds');

# liveness, and what is not /metrics

my ($status, $head, $body) = get($port, '/healthz');
is($status, 200, '/healthz 200 while the loop turns');
is($body, "ok\n", 'ok');

($status) = get($port, '/');
is($status, 404, '/ is 404');
($status) = get($port, '/metrics/x');
is($status, 404, '/metrics/x is 404');
($status, $head) = http($port, "POST /metrics HTTP/1.1\r\n"
    . "Content-Length: 0\r\n\r\n");
is($status, 405, 'POST is 405');
like($head, qr/^Allow: GET, HEAD\r?$/m, 'saying what is allowed');
($status, $head, $body) = http($port, "HEAD /metrics HTTP/1.1\r\n\r\n");
is($status, 200, 'HEAD /metrics');
is($body, '', 'without a body');
($status) = http($port, "GET /metrics HTTP/2.0\r\n\r\n");
is($status, 505, 'HTTP/2.0 is 505');

($status, $head, $body) = http($port, 'GET /' . ('a' x 8000)
    . " HTTP/1.1\r\n\r\n");
is($status, 414, 'a request line too long is 414');

# a client that says nothing is dropped; scrapes go on meanwhile

my $slow = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
    PeerPort => $port, Proto => 'tcp', Timeout => 5);
ok($slow, 'a client that says nothing');
ok(scrape($port), 'the next scrape is answered meanwhile');
my $t0 = time;
my $sel = IO::Select->new($slow);
my $eof = 0;
while (time < $t0 + 15) {
    last unless $sel->can_read($t0 + 15 - time);
    my $got = sysread($slow, my $x, 100);
    if (!$got) {
        $eof = 1;
        last;
    }
}
ok($eof && time - $t0 < 10, 'it is dropped within its timeout')
    or diag('after ' . (time - $t0) . ' s');
close $slow;

###############################################################################
# a tracker that retries a Redis that is down is alive: its loop turns

my $dead = $t->port;
my $log2 = start_worker($t, 'tracker-down', tracker_argv(
    kafka_group => 'metrics-down', redis_port => $dead,
    liveness_timeout_ms => 1000));
my $port2 = metrics_port($log2);
ok($port2, 'a second tracker, its Redis down');

my $m2;
ok(wait_for(sub {
    $m2 = scrape($port2) or return 0;
    ($m2->{v}{'race_worker_write_retries_total{worker="tracker"}'} // 0) > 2;
}, 60), 'it retries its batch') or diag($m2 ? $m2->{text} : 'no scrape');

my ($alive, $seen) = (1, 0);
my $end = time + 3;
while (time < $end) {
    ($status) = get($port2, '/healthz');
    $seen++;
    $alive = 0 unless defined $status && $status == 200;
    sleep 0.2;
}
ok($alive && $seen > 5, '/healthz stays 200 for 3 times '
    . 'liveness_timeout_ms while retrying');

$m2 = scrape($port2);
$lag = samples($m2, 'race_worker_kafka_consumer_lag');
ok(grep({ $_ > 0 } values %$lag), 'its lag shows the batch not written')
    or diag(explain($lag));

$t->stop('tracker-down');

###############################################################################
# /readyz: 200 while the tracker holds partitions; a second member of
# its group on a topic of one partition holds none: 503, saying so

($status, $head, $body) = get($port, '/readyz');
is($status, 200, '/readyz 200 once partitions are assigned');
is($body, "ready\n", 'ready');

$t->kafka_topics('race.one' => 1);

my %one;
for my $who (qw(a b)) {
    my $l = start_worker($t, "tracker-$who", tracker_argv(
        kafka_topic => 'race.one', kafka_group => 'metrics-one',
        kafka_instance_id => "one-$who"));
    $one{$who} = [$l, metrics_port($l)];
    ok($one{$who}[1], "a tracker of a group on a topic of one partition");

    # the first alone holds it; the second waits for the rebalance
    ok(wait_for(sub { $t->read_file($l) =~ /kafka: assigned/ }, 60),
        "it joined the group");
}

ok(wait_for(sub {
    my @s = map { (get($one{$_}[1], '/readyz'))[0] // 0 } qw(a b);
    "@s" eq '200 503' || "@s" eq '503 200';
}, 30), 'the one that holds the partition is ready, the other is not');

my ($idle) = grep { ((get($one{$_}[1], '/readyz'))[0] // 0) == 503 }
    qw(a b);
($status, $head, $body) = get($one{$idle}[1], '/readyz');
like($body // '', qr/^not ready: no Kafka partitions assigned$/,
    'it says why');
$m = scrape($one{$idle}[1]);
is($m && $m->{v}{'race_worker_ready{worker="tracker"}'}, 0,
    'race_worker_ready is 0');
$m = scrape($port);
is($m && $m->{v}{'race_worker_ready{worker="tracker"}'}, 1,
    'and 1 for a tracker that is ready');

$t->stop("tracker-$_") for qw(a b);

###############################################################################
# a tracker stuck in a call is not: Redis stopped, not answering

my $rpid = $t->pid('redis');
kill 'STOP', $rpid;

# a fix to write: the tracker waits on Redis, up to redis_timeout_ms
($rc, $out) = run([$produce, $kafka, 'race.fixes'], stdin => "$lines[0]\n");
is($rc, 0, 'a message while Redis is stopped') or diag($out);

my $stuck;
ok(wait_for(sub {
    ($status, $head, $stuck) = get($port, '/healthz');
    defined $status && $status == 503;
}, 20), '/healthz 503 once the loop has not turned for '
    . 'liveness_timeout_ms');
like($stuck // '', qr/^the main loop has not turned for \d+ ms$/,
    'saying for how long');

kill 'CONT', $rpid;

ok(wait_for(sub {
    ($status) = get($port, '/healthz');
    defined $status && $status == 200;
}, 30), '200 again once Redis answers');

###############################################################################
# race-accounts: its commands by type and outcome

my $ids = 0;
sub signup {
    my ($email) = @_;
    my $id = sprintf '%032x', 0xbee0000 + ++$ids;
    return "$email\t" . $json->encode({ op => 'signup', req => "q$ids",
        reply => 'race:accounts:reply:1',
        user => { id => $id, email => $email, name => "N$ids",
            role => 'spectator', hash => '$argon2id$v=19$m=19456,t=2,p=1'
                . '$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNo'
                . 'aGFzaGhhc2g' } });
}

my @cmds = (signup('a@example.org'), signup('b@example.org'),
    signup('a@example.org'), "x\tnot a command");

($rc, $out) = run([$produce, $kafka, 'race.accounts'],
    stdin => join('', map { "$_\n" } @cmds));
is($rc, 0, 'produced ' . @cmds . ' commands') or diag($out);

my $log3 = start_worker($t, 'accounts', [$accounts, accounts_args(
    kafka_brokers => $kafka, mongo_uri => $mongo, redis_port => $rport,
    metrics_listen => '127.0.0.1:0')]);
my $port3 = metrics_port($log3);
ok($port3, 'race-accounts logged its metrics port');

my $m3;
my $c = 'race_accounts_commands_total';
ok(wait_for(sub {
    $m3 = scrape($port3) or return 0;
    ($m3->{v}{'race_worker_messages_consumed_total{worker="accounts"}'}
        // 0) == @cmds
        && ($m3->{v}{"$c\{outcome=\"ok\",type=\"signup\"}"} // 0) == 2
        && ($m3->{v}{"$c\{outcome=\"refused\",type=\"signup\"}"} // 0) == 1;
}, 60), 'two signups ok, one refused (the email is taken)')
    or diag($m3 ? $m3->{text} : 'no scrape');

is($m3->{v}{"$c\{outcome=\"malformed\",type=\"unknown\"}"}, 1,
    'the bad command counted malformed');
is($m3->{types}{race_accounts_commands}, 'counter', 'a counter');
is($m3->{v}{"$c\{outcome=\"ok\",type=\"race_create\"}"}, 0,
    'every type shown, from 0');
ok(histogram_ok($m3, 'race_worker_mongodb_write_seconds',
    'worker="accounts"') >= 3, 'its MongoDB writes timed');
ok(histogram_ok($m3, 'race_worker_redis_write_seconds',
    'worker="accounts"') >= 3, 'its Redis writes timed');

ok(wait_for(sub {
    $m3 = scrape($port3) or return 0;
    $lag = samples($m3, 'race_worker_kafka_consumer_lag');
    keys %$lag && !grep { $_ != 0 } values %$lag;
}, 30), 'its lag is shown, and 0') or diag(explain($lag));

($status) = get($port3, '/healthz');
is($status, 200, 'its /healthz is 200');
($status, $head, $body) = get($port3, '/readyz');
is($status, 200, 'its /readyz is 200: partitions, MongoDB and Redis');

$t->stop('accounts');
$t->stop('tracker');

ok(!grep({ /metrics: / && /\[(error|alert)\]/ }
    split /\n/, $t->read_file($log) . $t->read_file($log3)),
    'no errors of the metrics server');

$t->done;
