package Race::Engine::Redis;

# Debian's redis-server on a free loopback port, no persistence, no
# protected-mode surprises; restartable on the same port.

use strict;
use warnings;

use File::Path qw(make_path);
use IO::Socket::INET;
use Time::HiRes qw(sleep time);
use Race::RESP ();

sub start {
    my ($t, %opt) = @_;

    my $r = $t->{redis} ||= {
        port => $t->port,
        dir  => $t->dir . '/redis',
    };
    make_path($r->{dir});

    my $bin = $ENV{RACE_REDIS_SERVER} || '/usr/bin/redis-server';
    die "redis-server not found at $bin (run ./build.sh deps)\n" unless -x $bin;

    $t->spawn(name => 'redis', argv => [$bin,
        '--bind', '127.0.0.1', '--port', $r->{port},
        '--dir', $r->{dir}, '--save', '', '--appendonly', 'no',
        '--protected-mode', 'no', '--daemonize', 'no',
        '--loglevel', 'warning', @{$opt{args} || []}]);

    my $end = time + 15;
    while (time < $end) {
        return "127.0.0.1:$r->{port}" if ping($r->{port});
        last unless $t->running('redis');
        sleep 0.05;
    }

    die "redis did not start:\n" . $t->read_file('redis.log');
}

sub stop {
    my ($t) = @_;
    $t->stop('redis');
}

# one command over RESP, the reply line back
sub command {
    my ($port, @args) = @_;

    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
        PeerPort => $port, Proto => 'tcp', Timeout => 2) or return;
    print $s Race::RESP::resp_encode(@args);
    my $line = <$s>;
    close $s;
    return $line;
}

# /ride lets no rider in until race-accounts has put every revocation
# back into Redis and set this marker (docs/INTERNALS.md); a test that
# runs no race-accounts says so itself, again after Redis restarts empty
sub revocations_loaded {
    my ($port) = @_;
    my $reply = command($port, 'SET', 'race:revocations:loaded', 1);
    die "redis: cannot set race:revocations:loaded\n"
        unless defined $reply && $reply =~ /^\+OK/;
    return 1;
}

# waits (bounded) until race-accounts has set the marker
sub wait_revocations_loaded {
    my ($port, $secs) = @_;
    my $end = time + ($secs || 30);
    while (time < $end) {
        my $reply = command($port, 'EXISTS', 'race:revocations:loaded');
        return 1 if defined $reply && $reply =~ /^:1/;
        sleep 0.05;
    }
    return 0;
}

sub ping {
    my ($port) = @_;
    my $reply = command($port, 'PING');
    return defined $reply && $reply =~ /^\+PONG/;
}

1;
