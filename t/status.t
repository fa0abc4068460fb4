#!/usr/bin/perl

# race_status and race_ready: the instance's counters summed over its
# two worker processes, as JSON and as Prometheus text (read by the
# Prometheus client library's own parser), moving as phones ride and
# spectators watch, kept across a reload; /race_status refused to a
# client the operator did not allow; /race_ready 503 while Redis is
# stopped, 200 once it is back, 503 once Kafka is gone.  Real Kafka
# and Redis.

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use HTTP::Tiny;
use IO::Socket::INET;
use IPC::Open2;
use JSON::PP;
use Cwd qw(abs_path);
use POSIX ();
use Time::HiRes qw(time sleep);
use Race::Test;
use Race::Util;
use Race::WS;
use Race::Token;
use Race::RESP qw(resp_encode);
use Race::Engine::Kafka;
use Race::Engine::Redis;

my $t = Race::Test->new;
my $port = $t->port;
my $kafka = $t->kafka;
my $redis = $t->redis;
my ($rport) = $redis =~ /:(\d+)$/;
my ($keyfile, $secret) = Race::Token::key_file($t);
my $root = $t->root;
my $json = JSON::PP->new->canonical;
my $ua = HTTP::Tiny->new(timeout => 10);
my $python = $t->python;

# no race-accounts here: what it would have loaded is said loaded
Race::Engine::Redis::revocations_loaded($rport);
Race::Engine::Redis::command($rport, 'SET', 'race:users:loaded', 1);

# reuseport: each worker has a socket of its own, and the kernel spreads
# the connections over both
$t->nginx(listen => [$port], workers => 2, http => <<"EOF");
    race_kafka_brokers $kafka;
    race_kafka_topic status.t;
    race_redis $redis;
    race_token_key k1 $keyfile;
    race_auth_common_passwords $root/conf/common-passwords.txt;

    server {
        # a small socket buffer: the queue, not the kernel, holds backlog
        listen 127.0.0.1:$port reuseport sndbuf=16k;

        location /ride {
            race_ingest;
        }

        location /live/ {
            race_live;
        }

        location /short/live/ {
            race_live;
            race_ws_send_queue 8;
        }

        location /echo {
            race_ws_echo;
        }

        location /api/ {
            race_api;
        }

        location = /race_status {
            race_status;
            allow 127.0.0.1;
            deny all;
        }

        # the same, for an operator who allows someone else
        location = /hidden_status {
            race_status;
            allow 192.0.2.1;
            deny all;
        }

        location = /race_ready {
            race_ready;
        }
    }
EOF

my $base = "http://127.0.0.1:$port";

sub get {
    my ($path, %h) = @_;
    return $ua->get("$base$path", { headers => \%h });
}

sub status_json {
    my $res = get('/race_status');
    return undef unless $res->{status} == 200;
    return eval { $json->decode($res->{content}) };
}

# the Prometheus text through prom_check.py: { 'name{labels}' => value }
sub status_prom {
    my ($text, $quiet) = @_;

    if (!defined $text) {
        my $res = get('/race_status?format=prometheus');
        return undef unless $res->{status} == 200;
        $text = $res->{content};
    }

    # its "parse error" on stderr, unless a refusal is what is tested
    open(my $err, '>&', \*STDERR) or die "stderr: $!\n";
    open(STDERR, '>', '/dev/null') if $quiet;
    my $pid = open2(my $out, my $in, $python, "$root/t/tools/prom_check.py");
    open(STDERR, '>&', $err) or die "stderr: $!\n";
    print $in $text;
    close $in;
    my @lines = <$out>;
    waitpid($pid, 0);
    return undef if $?;

    my (%v, %type);
    for (@lines) {
        if (/^(\w+) (\w+) \d+$/) {
            $type{$1} = $2;
        } elsif (/^  (\w+\{[^}]*\}) (\S+)$/) {
            $v{$1} = $2 + 0;
        }
    }
    $v{'#types'} = \%type;
    return \%v;
}

sub ready {
    my $res = get('/race_ready');
    return ($res->{status}, eval { $json->decode($res->{content}) } || {});
}

# the worker processes of the master, old ones (shutting down) included
sub workers {
    my $master = $t->pid('nginx');
    my %pids;
    for my $stat (glob '/proc/[0-9]*/stat') {
        my $s = $t->read_file($stat) or next;
        my ($pid, $ppid) = $s =~ /^(\d+) \(.*\) \S (\d+)/ or next;
        next unless $ppid == $master;
        my $cmd = $t->read_file("/proc/$pid/cmdline") || '';
        $pids{$pid} = 1 if $cmd =~ /worker process/;
    }
    return \%pids;
}

# the processes holding the server's side of established connections
sub serving {
    my %pids;
    for (`ss -tnpH state established '( sport = :$port )'`) {
        $pids{$1} = 1 while /pid=(\d+)/g;
    }
    return \%pids;
}

# the worker process on the server's side of a client's socket
sub owner {
    my ($ws) = @_;
    my $cport = $ws->sock->sockport;
    for (`ss -tnpH state established '( sport = :$port )'`) {
        return $1 if /:$cport\s.*pid=(\d+)/;
    }
    return 0;
}

# The zone's fold count, read (and written, if $set is given) in a
# worker's memory through /proc: the zone is shared, at the address the
# worker's ngx_http_race_status_sh holds (0 until it claimed a slot).
# The count is the zone's first field.
my $so = abs_path($t->module);
my ($sh_sym) = map { /^([0-9a-f]+) b ngx_http_race_status_sh$/ ? hex $1 : () }
    `nm $so`;

sub zone_seq {
    my ($pid, $set) = @_;

    my $base;
    for (split /\n/, $t->read_file("/proc/$pid/maps")) {
        my ($start, $off, $path) =
            /^([0-9a-f]+)-\S+ \S+ ([0-9a-f]+) \S+ \S+\s+(.*)$/ or next;
        next unless $path eq $so && hex($off) == 0;
        no warnings 'portable';
        $base = hex $start;
        last;
    }
    return undef unless defined $base && $sh_sym;

    open(my $mem, '+<:raw', "/proc/$pid/mem") or return undef;
    my $peek = sub {
        my $word;
        sysseek($mem, $_[0], 0) or return undef;
        return sysread($mem, $word, 8) == 8 ? unpack('Q<', $word) : undef;
    };
    my $sh = $peek->($base + $sh_sym) or return undef;
    if (defined $set) {
        sysseek($mem, $sh, 0) or return undef;
        syswrite($mem, pack('Q<', $set)) == 8 or return undef;
    }
    return $peek->($sh);
}

sub fix {
    my ($seq, %f) = @_;
    my $lat = exists $f{lat} ? $f{lat} : 45.07;
    my $now = now_ms();
    return qq{{"type":"fix","seq":$seq,"t":$now,"lat":$lat,"lon":7.68}};
}

sub ride {
    my ($rider) = @_;
    my $tok = Race::Token::mint(secret => $secret, race => 'r1',
        rider => $rider);
    return Race::WS->start(port => $port, path => '/ride',
        headers => ['Authorization' => "Bearer $tok"]);
}

sub publish {
    my ($race, @msgs) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
        PeerPort => $rport, Proto => 'tcp', Timeout => 5) or die "redis\n";
    print $s resp_encode('PUBLISH', "race:$race:live", $_) for @msgs;
    <$s> for @msgs;
    close $s;
}

sub tick {
    my ($race, $t, $pad) = @_;
    return $json->encode({ type => 'tick', race => $race, t => now_ms(),
        riders => [ { rider => 'p1', lat => 45, lon => 7.6, t => $t,
            seq => $t, pad => $pad } ] });
}


# both workers up with Kafka and Redis: ready, and nothing counted yet

my ($st, $r);
ok(wait_for(sub { ($st, $r) = ready(); $st == 200 }, 30),
    'race_ready: 200 once both workers reach Kafka and Redis')
    or diag(explain $r);
is_deeply($r, { ready => JSON::PP::true }, 'race_ready: {"ready":true}');

# ready while one worker is up and the other still starting: both up
# a moment later, when the other's first statistics came
my $s0 = status_json();
ok($s0, 'race_status: JSON by default');
is($s0->{workers}, 2, 'two workers report');
my $updown = '';
ok(wait_for(sub {
    $s0 = status_json();
    $updown = "$s0->{kafka}{up}/$s0->{kafka}{workers} $s0->{redis}{up}/"
        . "$s0->{redis}{workers}";
    $updown eq '2/2 2/2';
}, 15), 'Kafka and Redis up in both') or diag($updown);
is($s0->{fixes}{received}, 0, 'no fix received yet');

my $res = get('/race_status');
is($res->{headers}{'content-type'}, 'application/json',
    'JSON: application/json');
$res = get('/race_status?format=prometheus');
is($res->{headers}{'content-type'},
    'text/plain; version=0.0.4; charset=utf-8',
    'Prometheus: text 0.0.4');
$res = get('/race_status', Accept => 'text/plain;version=0.0.4;q=0.5,*/*;q=0.1');
like($res->{content}, qr/^# HELP race_/, 'Accept text/plain: Prometheus');
$res = get('/race_status', Accept => 'application/json, text/plain');
like($res->{content}, qr/^\{/, 'Accept with application/json: JSON');
is(get('/race_status?format=xml')->{status}, 400, 'an unknown format: 400');


# phones on both workers: N fixes sent, N received, N acked

my (@rides, $serving);
for my $i (1 .. 20) {
    push @rides, ride("p$i");
    $serving = serving();
    last if @rides >= 4 && keys %$serving >= 2;
}
my %w = %{workers()};
is(scalar(grep { $w{$_} } keys %$serving), 2,
    scalar(@rides) . ' phones on both worker processes');

my $n = 0;
for my $ws (@rides) {
    my $first = $n + 1;
    $n += 3;
    $ws->send_frame(Race::WS::TEXT, '{"type":"fixes","items":['
        . join(',', map { fix($_) } $first .. $n) . ']}');
    my $ack = read_until($ws, qr/"type":"ack"/, 10) || '';
    is($ack, qq{{"type":"ack","seq":$n}}, "phone acked up to $n");
}

# a batch with a bad fix, and a message that is no fix at all
my $ws = $rides[0];
$ws->send_frame(Race::WS::TEXT, '{"type":"fixes","items":['
    . fix(1001, lat => 999) . ',' . fix(1002) . ']}');
my @seen;
ok(read_until($ws, qr/"seq":1002/, 10, \@seen), 'mixed batch acked');
ok((grep { /"code":"bad_fix"/ } @seen), 'and its bad fix refused');
$ws->send_frame(Race::WS::TEXT, '[1,2]');
ok(read_until($ws, qr/"code":"bad_message"/, 10), 'a bad message refused');

# refused before the upgrade: no token, a bad one
my $bad = Race::WS->new(port => $port);
is($bad->handshake(path => '/ride')->{status}, 401, 'ride without token');
$bad = Race::WS->new(port => $port);
is($bad->handshake(path => '/ride',
    headers => ['Authorization' => 'Bearer not.a.token'])->{status}, 401,
    'ride with a bad token');

my $s1 = status_json();
my $rides = @rides;
is($s1->{fixes}{received}, $n + 2, "received: $n + 2 fixes");
is($s1->{fixes}{acked}, $n + 1, "acked: $n + 1");
is_deeply($s1->{fixes}{rejected}, { bad_fix => 1, bad_message => 1 },
    'rejected by code');
is_deeply($s1->{connections}{ride}, { current => $rides,
    accepted => $rides }, "ride connections: $rides open, $rides accepted");
is_deeply($s1->{auth}{ride}, { ok => $rides, missing_token => 1,
    invalid_token => 1, token_revoked => 0 }, 'ride token checks');
my $produced = $rides + 1;
cmp_ok($s1->{kafka}{delivery}{count}, '>=', $produced,
    "delivery latency of $produced messages at least");
is($s1->{kafka}{delivery}{buckets}{'+Inf'}, $s1->{kafka}{delivery}{count},
    'the +Inf bucket holds them all');
my $depth;
ok(wait_for(sub { $depth = status_json()->{kafka}{queue_depth}; !$depth },
    10), 'nothing waits in the producers') or diag("depth $depth");


# the API: a login refused, token checks refused

($st) = api_call($ua, POST => "$base/api/auth/login",
    json => { email => 'nobody@example.org', password => 'x' x 12 });
is($st, 401, 'login of a stranger: 401');
($st) = api_call($ua, GET => "$base/api/me");
is($st, 401, 'me without a token: 401');
($st) = api_call($ua, GET => "$base/api/me", token => 'not.a.token');
is($st, 401, 'me with a bad token: 401');


# spectators: one watches, one is too slow and gets a snapshot instead

my $fast = Race::WS->start(port => $port, path => '/live/r3');
ok(read_until($fast, qr/"type":"snapshot"/, 10), 'a spectator watches');
my $slow = Race::WS->new(port => $port, rcvbuf => 4096);
is($slow->handshake(path => '/short/live/r3')->{status}, 101,
    'a slow spectator too');
ok(read_until($slow, qr/"type":"snapshot"/, 10), 'its first snapshot');

my $s2 = status_json();
is($s2->{live}{subscribers}, 2, 'two subscribers');
cmp_ok($s2->{live}{races}, '>=', 1, 'a race watched (once per worker)');
is($s2->{connections}{live}{current}, 2, 'two live connections');

# some 800k in ticks: more than the slow one's queue and buffers hold
my $pad = 'x' x 8000;
my $ticks = 100;
publish('r3', tick('r3', 10000 + $_, $pad)) for 1 .. $ticks;
ok(read_until($fast, qr/"t":${\ (10000 + $ticks)}\b/, 20),
    'the fast one got the last tick');
ok(read_until($slow, qr/"t":${\ (10000 + $ticks)}\b/, 20),
    'the slow one ends at the latest state');
my $snaps = 0;
ok(wait_for(sub {
    $snaps = status_json()->{live}{slow_snapshots}; $snaps >= 1 }, 10),
    "slow-spectator snapshots counted ($snaps)");


# an echo socket, opened and closed

my $echo = Race::WS->start(port => $port, path => '/echo');
is(status_json()->{connections}{ws_echo}{current}, 1, 'echo: one open');
$echo->send_close(1000);
$echo->read_close(5);
$echo->disconnect;


# all gone: the gauges go back to 0, the counters stay

$_->disconnect for @rides, $fast, $slow;
my $s3;
ok(wait_for(sub {
    $s3 = status_json();
    !grep { $s3->{connections}{$_}{current} } qw(ride live ws_echo api)
        and !$s3->{live}{subscribers} and !$s3->{live}{races};
}, 15), 'every connection closed: the gauges are 0')
    or diag(explain $s3->{connections}, $s3->{live});

is($s3->{fixes}{acked}, $n + 1, 'the counters stay');
is($s3->{connections}{ws_echo}{accepted}, 1, 'echo: one accepted');
is($s3->{connections}{api}{accepted}, 3, 'api: three requests');
is_deeply($s3->{auth}{login}, { ok => 0, invalid_credentials => 1 },
    'logins: one refused');
is_deeply($s3->{auth}{api}, { ok => 0, missing_token => 1,
    invalid_token => 1, token_revoked => 0 }, 'api token checks');


# the Prometheus text: parsed by the client library, the same numbers

# two requests: taken again until nothing moved between them
my ($text, $p, $j, %same);
for my $try (1 .. 20) {
    $text = get('/race_status?format=prometheus')->{content};
    $p = status_prom($text);
    last unless $p;
    $j = status_json();
    %same = same($j);
    last unless grep { ($p->{$_} // -1) != $same{$_} } keys %same;
    sleep 0.2;
}
ok($p, 'the Prometheus text parses') or diag($text);
$p ||= {};

sub same {
    my ($j) = @_;
    return (
        'race_workers{}' => $j->{workers},
        'race_fixes_received_total{}' => $j->{fixes}{received},
        'race_fixes_acked_total{}' => $j->{fixes}{acked},
        'race_fixes_rejected_total{code="bad_fix"}' =>
            $j->{fixes}{rejected}{bad_fix},
        'race_fixes_rejected_total{code="bad_message"}' =>
            $j->{fixes}{rejected}{bad_message},
        'race_connections{endpoint="ride"}' => $j->{connections}{ride}{current},
        'race_connections_accepted_total{endpoint="ride"}' =>
            $j->{connections}{ride}{accepted},
        'race_connections_accepted_total{endpoint="api"}' =>
            $j->{connections}{api}{accepted},
        'race_kafka_up{}' => $j->{kafka}{up},
        'race_redis_up{}' => $j->{redis}{up},
        'race_kafka_queue_depth{}' => $j->{kafka}{queue_depth},
        'race_kafka_delivery_seconds_count{}' => $j->{kafka}{delivery}{count},
        'race_kafka_delivery_seconds_bucket{le="+Inf"}' =>
            $j->{kafka}{delivery}{count},
        'race_live_subscribers{}' => $j->{live}{subscribers},
        'race_live_snapshots_total{}' => $j->{live}{slow_snapshots},
        'race_auth_total{check="login",outcome="invalid_credentials"}' =>
            $j->{auth}{login}{invalid_credentials},
        'race_auth_total{check="ride",outcome="ok"}' => $j->{auth}{ride}{ok},
    );
}
is_deeply({ map { $_ => $p->{$_} } keys %same }, \%same,
    'Prometheus and JSON agree');
is_deeply({ map { $_ => $p->{'#types'}{$_} } qw(race_fixes_received
    race_connections race_kafka_delivery_seconds race_auth) },
    { race_fixes_received => 'counter', race_connections => 'gauge',
      race_kafka_delivery_seconds => 'histogram', race_auth => 'counter' },
    'families typed');
ok(abs($p->{'race_kafka_delivery_seconds_sum{}'}
    - $j->{kafka}{delivery}{sum_seconds}) < 1e-6, 'delivery seconds agree');
ok(!defined status_prom("race_x{ 1\n", 1), 'and the parser refuses bad text');


# an address the operator did not allow

is(get('/hidden_status')->{status}, 403, 'a client not allowed: 403');


# a reload: new workers, the counts kept

# probed every 50 ms meanwhile: ready throughout, though the old workers
# exit at once and the new ones wait for their first Kafka statistics
my $old = workers();
my ($probes, @unready) = (0);
kill 'HUP', $t->pid('nginx');
ok(wait_for(sub {
    my ($code, $body) = ready();
    $probes++;
    push @unready, $json->encode($body) if $code == 503;
    my $now = workers();
    return 0 if grep({ $now->{$_} } keys %$old) || keys %$now != 2;
    my $s = status_json() or return 0;
    $s->{kafka}{up} == 2 && $s->{redis}{up} == 2;
}, 30, 0.05), 'reload: the old workers gone, two new ones up');
is(scalar(@unready), 0, "ready throughout the reload ($probes probes)")
    or diag(join "\n", @unready);

my $s4;
ok(wait_for(sub { $s4 = status_json(); $s4 && $s4->{workers} == 2 }, 10),
    'two workers report after the reload');
is($s4->{fixes}{received}, $n + 2, 'received: kept');
is($s4->{fixes}{acked}, $n + 1, 'acked: kept');
is($s4->{connections}{ride}{accepted}, $rides, 'accepted: kept');
is($s4->{connections}{ride}{current}, 0, 'no connection left counted');

$ws = ride('p99');
$ws->send_frame(Race::WS::TEXT, fix(1));
ok(read_until($ws, qr/"type":"ack"/, 10), 'a phone after the reload');
my $s5 = status_json();
is($s5->{fixes}{acked}, $n + 2, 'acked: counting on from there');
$ws->disconnect;
ok(wait_for(sub { ($st) = ready(); $st == 200 }, 30),
    'ready after the reload');


# A worker killed (SIGKILL) inside a fold leaves the zone's fold count
# odd, as if a fold never ended: made so here by hand.  The sums are
# still right (taken under the mutex), the count is made even; a worker
# killed for good: the master starts another, which makes the count even
# too, the counters never go down and the dead one's gauges leave them.

@rides = ();
for my $i (1 .. 20) {
    push @rides, ride("k$i");
    my %on = map { owner($_) => 1 } @rides;
    last if @rides >= 4 && keys %on >= 2;
}
my %on;
$on{owner($_)}++ for @rides;
is(scalar(keys %on), 2, scalar(@rides) . ' phones on both workers again');
my ($victim, $survivor) = sort { $a <=> $b } keys %on;

my $k0;
ok(wait_for(sub { $k0 = status_json();
    $k0 && $k0->{connections}{ride}{current} == @rides }, 10),
    'their connections counted');

my $seq = zone_seq($survivor);
ok(defined $seq && $seq % 2 == 0, "the fold count is even ($seq)");
zone_seq($survivor, $seq | 1);
my $k1 = status_json();
is("$k1->{workers} $k1->{fixes}{received} $k1->{fixes}{acked} "
    . "$k1->{connections}{ride}{current}",
    "2 $k0->{fixes}{received} $k0->{fixes}{acked} ${\ scalar(@rides)}",
    'a fold that never ended: the sums still right');
is(zone_seq($survivor) % 2, 0, 'and the count even again');
($st) = ready();
is($st, 200, 'and ready');

zone_seq($survivor, zone_seq($survivor) | 1);
$t->expect_alert(qr/worker process $victim exited on signal 9/);
kill 'KILL', $victim;
my $reborn;
ok(wait_for(sub {
    my $now = workers();
    ($reborn) = grep { $_ != $survivor } keys %$now;
    !$now->{$victim} && keys %$now == 2 && zone_seq($reborn);
}, 30), 'the killed worker replaced by the master');
is(zone_seq($reborn) % 2, 0,
    'the new worker made the fold count even before any sum');

my $left = $on{$survivor};
my ($k2, $dropped) = (undef, 0);
ok(wait_for(sub {
    $k2 = status_json() or return 0;
    $dropped++ if $k2->{fixes}{received} < $k0->{fixes}{received}
        or $k2->{connections}{ride}{accepted}
            < $k0->{connections}{ride}{accepted};
    $k2->{workers} == 2 && $k2->{connections}{ride}{current} == $left;
}, 15), "the dead worker's connections left the sums ($left left)")
    or diag(explain $k2);
ok(!$dropped, 'no counter went down');
is($k2->{connections}{ride}{accepted}, $k0->{connections}{ride}{accepted},
    'accepted: kept');
is($k2->{fixes}{acked}, $k0->{fixes}{acked}, 'acked: kept');
ok(wait_for(sub { ($st) = ready(); $st == 200 }, 30), 'ready again');
$_->disconnect for @rides;


# Redis stopped: not ready; back: ready

Race::Engine::Redis::stop($t);
ok(wait_for(sub { ($st, $r) = ready(); $st == 503 }, 20),
    'Redis stopped: race_ready 503');
is_deeply($r, { ready => JSON::PP::false, kafka => 'up', redis => 'down' },
    'naming Redis');
ok(wait_for(sub { status_json()->{redis}{up} == 0 }, 20),
    'race_status: then Redis up in no worker');

$t->redis;
ok(wait_for(sub { ($st, $r) = ready(); $st == 200 }, 30),
    'Redis back: race_ready 200');


# Kafka gone: not ready

# (Redis came back empty: what race-accounts would load, again)
Race::Engine::Redis::revocations_loaded($rport);
Race::Engine::Redis::command($rport, 'SET', 'race:users:loaded', 1);
my $handshake;
ok(wait_for(sub {
    $ws = Race::WS->new(port => $port);
    $handshake = $ws->handshake(path => '/ride', headers => [
        'Authorization' => 'Bearer ' . Race::Token::mint(secret => $secret,
            race => 'r1', rider => 'p100')])->{status};
    $handshake == 101;
}, 15), 'a phone on') or diag("handshake $handshake");
Race::Engine::Kafka::stop($t);
ok(wait_for(sub { ($st, $r) = ready(); $st == 503 }, 30),
    'Kafka stopped: race_ready 503');
is_deeply($r, { ready => JSON::PP::false, kafka => 'down', redis => 'up' },
    'naming Kafka');
ok(wait_for(sub { status_json()->{kafka}{up} == 0 }, 20),
    'race_status: then Kafka up in no worker');

# what a phone sends meanwhile waits in the producer: the depth counts
# those messages, exactly, and nothing else librdkafka has queued (a
# phone connected before)
$ws->send_frame(Race::WS::TEXT, fix($_)) for 1 .. 3;
my @depths;
ok(wait_for(sub { status_json()->{kafka}{queue_depth} == 3 }, 10),
    'Kafka away: three messages wait');
push @depths, status_json()->{kafka}{queue_depth} for 1 .. 10;
is("@depths", join(' ', (3) x 10), 'and only they, read after read');

$t->done;
