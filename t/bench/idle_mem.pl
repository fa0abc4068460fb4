#!/usr/bin/perl

# What an idle connection costs nginx: the release build, one worker,
# real Redis on loopback.  For each kind of connection it starts a fresh
# nginx, opens WARM connections (what is paid once: the race's state,
# its snapshot frame, the Redis replies' buffers), takes the worker's
# memory, opens N more, each brought to its idle state, and prints the
# worker's growth per connection:
#
#   live       a /live/r1 spectator that has read its snapshot (a race
#              of 50 riders, its state hash in Redis) and then listens
#   live-limited  the same under limit_conn (as conf/nginx.prod.conf):
#              limit_conn's count lives as long as the request, which
#              the socket then keeps
#   echo       a race_ws_echo WebSocket that sent one message and read
#              it back
#   keepalive  a plain HTTP/1.1 keep-alive connection after one request:
#              nginx's own floor for an idle connection
#
#   t/bench/idle_mem.pl [N [KINDS]]
#                      (5000 live,live-limited,echo,keepalive)
#
# The memory is the worker's VmRSS (/proc/PID/status) and its
# Private_Dirty (/proc/PID/smaps_rollup).  The connection slots
# (worker_connections: ngx_connection_t and its two events) are
# allocated and written when the worker starts, so they are in the
# baseline, not in the growth: a slot costs the same whether it is used
# or not.  Socket buffers are the kernel's, not in the worker's RSS.
# Asserts nothing; bounded: every wait has a deadline.  Every command it
# runs is printed ("$ ...").

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";

use JSON::PP;
use POSIX ();
use Time::HiRes qw(time sleep);
use Race::Test;
use Race::RESP qw(resp_encode);
use Race::WS;

my $n = (shift // 5000) + 0;
my $kinds = shift // 'live,live-limited,echo,keepalive';
my @kinds = split /,/, $kinds;
my $WARM = 50;
my $RIDERS = 50;

for (@kinds) {
    die "unknown kind \"$_\": live, live-limited, echo or keepalive\n"
        unless /^(live|live-limited|echo|keepalive)$/;
}

my $t = Race::Test->new;
my $json = JSON::PP->new->canonical;

printf "# %s, %d cores, load average %s at start\n",
    POSIX::strftime('%Y-%m-%d %H:%M:%S UTC', gmtime), `nproc` + 0,
    loadavg();
print "\$ t/bench/idle_mem.pl $n $kinds\n";

my $redis = $t->redis;
my ($rport) = $redis =~ /:(\d+)$/;
print "\$ redis-server --port $rport\n";

# the race's state: 50 riders, a snapshot of about 6 KB
{
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
        PeerPort => $rport, Proto => 'tcp', Timeout => 5)
        or die "redis: $!\n";
    for my $i (1 .. $RIDERS) {
        print $s resp_encode('HSET', 'race:r1:state', "p$i",
            $json->encode({ rider => "p$i", lat => 45 + $i / 1e4,
                lon => 7.6 + $i / 1e4, t => 1000, seq => 1, speed => 8.5,
                dist => 1000 * $i, rank => $i, gap => $i * 1000 }));
    }
    my $got = 0;
    while ($got < $RIDERS) {
        defined(my $line = <$s>) or die "redis: no reply\n";
        $got++;
    }
    close $s;
    print "\$ redis-cli HSET race:r1:state p1 '{...}' ... p$RIDERS "
        . "'{...}'\n";
}

sub loadavg {
    open my $fh, '<', '/proc/loadavg' or return '?';
    my @l = split ' ', <$fh>;
    return "@l[0 .. 2]";
}

sub worker_pid {
    my $master = $t->pid('nginx') or die "nginx is not running\n";
    my $end = time + 10;
    while (time < $end) {
        my @w = split ' ', `pgrep -P $master`;
        return $w[0] if @w == 1;
        sleep 0.05;
    }
    die "no nginx worker\n";
}

# KB: the worker's VmRSS and Private_Dirty
sub memory {
    my ($pid) = @_;
    my %m = (rss => 0, dirty => 0);

    open my $fh, '<', "/proc/$pid/status" or die "status: $!\n";
    while (<$fh>) {
        $m{rss} = $1 if /^VmRSS:\s+(\d+) kB/;
    }
    close $fh;

    open $fh, '<', "/proc/$pid/smaps_rollup" or return \%m;
    while (<$fh>) {
        $m{dirty} = $1 if /^Private_Dirty:\s+(\d+) kB/;
    }
    close $fh;
    return \%m;
}

my $port = $t->port;

sub start_nginx {
    my $slots = $n + $WARM + 256;

    $t->nginx(listen => [$port], log_level => 'notice',
        worker_connections => $slots, main => "worker_rlimit_nofile "
            . ($slots + 64) . ";", http => <<"EOF");
    race_redis $redis;
    access_log off;
    limit_conn_zone \$binary_remote_addr zone=bench_sockets:10m;

    server {
        listen 127.0.0.1:$port backlog=4096;

        location /live/ {
            race_live;
        }

        location /limited/live/ {
            limit_conn bench_sockets 65535;
            race_live;
        }

        location = /echo {
            race_ws_echo;
        }

        location = /keepalive {
            return 204;
        }
    }
EOF

    print "\$ nginx (release build, 1 worker, worker_connections $slots, "
        . "default race_ws_* and pools) -c " . $t->dir . "/nginx.conf\n";
}

# one connection of KIND, brought to its idle state, or undef
sub open_one {
    my ($kind) = @_;

    if ($kind eq 'keepalive') {
        my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
            PeerPort => $port, Proto => 'tcp', Timeout => 5) or return undef;
        print $s "GET /keepalive HTTP/1.1\r\nHost: localhost\r\n\r\n";
        my $head = '';
        my $end = time + 5;
        while (index($head, "\r\n\r\n") < 0 && time < $end) {
            sysread($s, $head, 4096, length $head) or return undef;
        }
        return $head =~ m{^HTTP/1\.1 204} ? $s : undef;
    }

    my $ws = eval {
        Race::WS->start(port => $port,
            path => $kind eq 'live' ? '/live/r1'
                : $kind eq 'live-limited' ? '/limited/live/r1' : '/echo')
    } or return undef;

    if ($kind =~ /^live/) {
        my $f = $ws->read_frame(10);
        return undef unless ref $f && $f->{opcode} == Race::WS::TEXT
            && $f->{payload} =~ /^\{"[^"]+":/
            && $f->{payload} =~ /"snapshot"/;
        return $ws;
    }

    my $msg = 'x' x 64;
    $ws->send_frame(Race::WS::TEXT, $msg);
    my $f = $ws->read_frame(10);
    return ref $f && $f->{payload} eq $msg ? $ws : undef;
}

my @results;

for my $kind (@kinds) {
    start_nginx();
    my $pid = worker_pid();
    my $start = memory($pid);

    my (@conns, $failed);

    for (1 .. $WARM) {
        my $c = open_one($kind) or die "$kind: a warm-up connection failed\n";
        push @conns, $c;
    }

    sleep 1;
    my $m0 = memory($pid);
    my $t0 = time;

    for (1 .. $n) {
        my $c = open_one($kind);
        if ($c) {
            push @conns, $c;
        } else {
            $failed++;
        }
    }

    my $secs = time - $t0;
    sleep 1;
    my $m1 = memory($pid);
    my $ok = $n - ($failed || 0);

    printf "%-12s %d idle connections in %.1f s (%d failed): worker "
        . "VmRSS %d KB at start, %d KB + %d warm-up, %d KB + %d\n",
        $kind, $ok, $secs, $failed || 0, $start->{rss}, $m0->{rss}, $WARM,
        $m1->{rss}, $ok;

    push @results, [$kind, $ok,
        $ok ? ($m1->{rss} - $m0->{rss}) * 1024 / $ok : 0,
        $ok ? ($m1->{dirty} - $m0->{dirty}) * 1024 / $ok : 0];

    # the clients go first: nginx then has nothing left to say goodbye to
    for (@conns) {
        close(ref $_ eq 'Race::WS' ? $_->sock : $_);
    }
    @conns = ();
    $t->stop_nginx;
}

print "\nbytes of nginx worker memory per idle connection "
    . "(growth over $WARM warm-up ones):\n";
printf "  %-12s %8s %12s %14s\n", 'kind', 'conns', 'VmRSS B', 'Priv.Dirty B';
printf "  %-12s %8d %12.0f %14.0f\n", @$_ for @results;

my @alerts = grep { /\[(alert|crit|emerg)\]/ }
    split /\n/, $t->read_file('error.log');
print "\nerror.log: ", scalar(@alerts), " alerts\n";
print "  $_\n" for @alerts[0 .. ($#alerts < 4 ? $#alerts : 4)];

$t->stop_all;
