#!/usr/bin/perl

# Reloads under load: 50 times "kill -HUP" to the master while phones
# and spectators keep connecting and sending.  Every old worker says
# goodbye (1001) to its WebSockets, also to those upgraded after its
# graceful shutdown began (a /ride whose revocation check Redis answered
# late, a spectator whose request came late), and exits soon: no
# "open socket left" alert, no socket lingering.  Real Kafka and Redis.

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use POSIX ();
use Time::HiRes qw(time sleep);
use Race::Test;
use Race::Util;
use Race::WS;
use Race::Token;
use Race::Engine::Redis;

my $t = Race::Test->new;
my $port = $t->port;
my $kafka = $t->kafka;
my $redis = $t->redis;

# no race-accounts here: the revocations are loaded, as it would say
Race::Engine::Redis::revocations_loaded(($redis =~ /:(\d+)$/)[0]);
my ($keyfile, $secret) = Race::Token::key_file($t);
my $dir = $t->dir;

my $RELOADS = 50;

$t->nginx(listen => [$port], workers => 2, http => <<"EOF");
    race_kafka_brokers $kafka;
    race_kafka_topic reload.t;
    race_redis $redis;
    race_token_key k1 $keyfile;
    race_ws_close_timeout 2s;

    server {
        listen 127.0.0.1:$port;

        location /ride {
            race_ingest;
        }

        location /live/ {
            race_live;
        }
    }
EOF

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

# A client in a child process: connects again and again until the stop
# file appears (or 10 minutes pass), keeps a few sockets open, sends on
# them, answers close frames; counts what it saw in its stats file.
sub client {
    my ($name, $path, $headers, $message) = @_;

    my $pid = fork() // die "fork: $!\n";
    return $pid if $pid;

    my %n = (connected => 0, going_away => 0, refused => 0);
    my @open;
    my $end = time + 600;

    while (time < $end && !-e "$dir/stop") {
        my $ws = eval {
            Race::WS->start(port => $port, path => $path,
                headers => $headers->());
        };
        if ($ws) {
            $t->write_file("up.$name", '') unless $n{connected}++;
            push @open, $ws;
        } else {
            $n{refused}++;
        }

        # three sockets each, the oldest goes
        shift(@open)->disconnect if @open > 3;

        for my $ws (@open) {
            $ws->send_raw(Race::WS::frame(Race::WS::TEXT, $message->()),
                timeout => 0.2) if $message;

            # what came: a close is answered, and the socket dropped
            while (my $f = $ws->read_frame(0.01)) {
                if (!ref $f) {
                    $ws->{dead} = 1;
                    last;
                }
                next unless $f->{opcode} == Race::WS::CLOSE;
                my $code = unpack('n', $f->{payload}) || 0;
                $n{going_away}++ if $code == 1001;
                $ws->send_close($code == 1001 ? 1000 : $code);
                $ws->{dead} = 1;
                last;
            }
        }

        @open = grep { !$_->{dead} } @open;
    }

    $t->write_file("stats.$name", join '', map { "$_ $n{$_}\n" } keys %n);
    POSIX::_exit(0);
}

my $seq = 0;
my @kids = (
    client('phones', '/ride', sub {
        my $tok = Race::Token::mint(secret => $secret, race => 'r1',
            rider => 'p' . int(rand(20)));
        return ['Authorization' => "Bearer $tok"];
    }, sub {
        $seq++;
        return qq{{"type":"fix","seq":$seq,"t":${\ now_ms()},}
            . qq{"lat":45.07,"lon":7.68}};
    }),
    client('spectators', '/live/r1', sub { [] }, undef),
    client('phones2', '/ride', sub {
        my $tok = Race::Token::mint(secret => $secret, race => 'r2',
            rider => 'q' . int(rand(20)));
        return ['Authorization' => "Bearer $tok"];
    }, undef),
);

# the load is on before the first reload
my $wait = time + 30;
sleep 0.1 while time < $wait
    && grep { !-e "$dir/up.$_" } qw(phones spectators phones2);

my ($done, $slow) = (0, 0);

for my $i (1 .. $RELOADS) {
    my $old = workers();

    kill 'HUP', $t->pid('nginx');

    # the old workers exit, new ones serve: bounded, a few close
    # handshakes at most (race_ws_close_timeout 2s)
    my $end = time + 20;
    my $ok = 0;
    while (time < $end) {
        my $now = workers();
        if (!grep { $now->{$_} } keys %$old
            and grep { !$old->{$_} } keys %$now)
        {
            $ok = 1;
            last;
        }
        sleep 0.05;
    }

    $ok ? $done++ : $slow++;
    last unless $ok;
}

is($done, $RELOADS, "$RELOADS reloads, each old worker gone within 20s");

$t->write_file('stop', '');
for my $kid (@kids) {
    my $end = time + 30;
    sleep 0.05 while time < $end && waitpid($kid, POSIX::WNOHANG()) == 0;
}

my %stats;
for my $name (qw(phones spectators phones2)) {
    for (split /\n/, $t->read_file("stats.$name") || '') {
        my ($k, $v) = split / /;
        $stats{$k} += $v;
    }
}

diag(join ', ', map { "$_ $stats{$_}" } sort keys %stats);
cmp_ok($stats{connected} || 0, '>', $RELOADS, 'clients kept connecting');
cmp_ok($stats{going_away} || 0, '>', 0, 'and were told 1001 on reloads');

my $log = $t->read_file('error.log');
my @left = $log =~ /^(.*open socket .* left.*)$/mg;
is(scalar @left, 0, 'no socket left open by an exiting worker')
    or diag(join "\n", @left[0 .. ($#left < 9 ? $#left : 9)]);

$t->done;
