#!/usr/bin/perl

# A small /live load, to profile the fan-out (not ./build.sh bench
# live, which compares with Nchan): Redis and nginx with the release
# module (build/), SPECTATORS spectators of one race read by one
# process, TICKS ticks of 50 riders published as fast as Redis takes
# them in writes of BATCH.  Prints what it runs and the figures: ticks
# published, frames and bytes received, the nginx worker's CPU seconds.
# With PERF=1, `perf record -g` follows the worker into DIR/perf.data.
#
#   perl t/bench/live_flood.pl [SPECTATORS [TICKS [BATCH]]]

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";
use IO::Select;
use IO::Socket::INET;
use POSIX ();
use Time::HiRes qw(time sleep);
use Race::Test;
use Race::RESP qw(resp_encode);
use Race::WS;

my $N = $ARGV[0] || 50;
my $TICKS = $ARGV[1] || 20000;
my $BATCH = $ARGV[2] || 20;
my $RIDERS = 50;

$ENV{RACE_BUILD} ||= "$FindBin::Bin/../../build";

my $t = Race::Test->new;
my $port = $t->port;
my $redis = $t->redis;
my ($rport) = $redis =~ /:(\d+)$/;

$t->nginx(listen => [$port], log_level => 'warn', http => <<"EOF");
    race_redis $redis;
    server {
        listen 127.0.0.1:$port;
        location /live/ { race_live; }
    }
EOF

my ($worker) = grep { $_ != $t->pid('nginx') }
    map { /^(\d+)/ ? $1 : () } `pgrep -P ${\ $t->pid('nginx')}`;
print "bench: nginx worker $worker, module $ENV{RACE_BUILD}\n";

sub state {
    my ($i, $k) = @_;
    return sprintf('{"rider":"p%d","lat":%.6f,"lon":7.6,"t":%d,"seq":%d,'
        . '"spd":8.5,"ele":312}', $i, 45 + $k / 1e5, 1000 + $k, $k);
}

sub tick {
    my ($k) = @_;
    return '{"type":"tick","race":"r1","t":' . (1000 + $k) . ',"riders":['
        . join(',', map { state($_, $k) } 0 .. $RIDERS - 1) . ']}';
}

my @ws = map { Race::WS->start(port => $port, path => '/live/r1') } 1 .. $N;
my $sel = IO::Select->new(map { $_->sock } @ws);

sub cpu {
    open my $fh, '<', "/proc/$worker/stat" or return 0;
    my @f = split ' ', (<$fh> =~ s/^.*\) //r);
    return ($f[11] + $f[12]) / POSIX::sysconf(POSIX::_SC_CLK_TCK());
}

my $perf;
if ($ENV{PERF}) {
    my @cmd = ('perf', 'record', '-g', '-o', $t->dir . '/perf.data',
        '-p', $worker);
    print "bench: @cmd\n";
    $perf = fork();
    if ($perf == 0) {
        open STDOUT, '>', '/dev/null';
        open STDERR, '>', '/dev/null';
        { exec @cmd; }
        POSIX::_exit(127);
    }
    sleep 1;
}

my $pub = fork();
die "fork: $!\n" unless defined $pub;
if ($pub == 0) {
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
        PeerPort => $rport, Proto => 'tcp') or POSIX::_exit(1);
    for (my $k = 1; $k <= $TICKS; $k += $BATCH) {
        my @c = map { resp_encode('PUBLISH', 'race:r1:live', tick($_)) }
            $k .. $k + $BATCH - 1;
        print $s join('', @c);
        <$s> for @c;
    }

    # the state as the worker leaves it: where a dropped subscriber
    # starts again from
    my @c = map { resp_encode('HSET', 'race:r1:state', "p$_",
        state($_, $TICKS)) } 0 .. $RIDERS - 1;
    print $s join('', @c);
    <$s> for @c;
    POSIX::_exit(0);
}

print "bench: $N spectators, $TICKS ticks of $RIDERS riders, "
    . "$BATCH a write\n";

my $cpu0 = cpu();
my $t0 = time;
my ($bytes, $done, $quiet) = (0, 0, 0);
my $last = "\"t\":" . (1000 + $TICKS) . ",";
my %tail;

# read until the publisher is done and every spectator has the last tick
while (time - $t0 < 300) {
    $done ||= waitpid($pub, POSIX::WNOHANG) == $pub;
    for my $fh ($sel->can_read(0.5)) {
        my $n = sysread($fh, my $buf, 1 << 20);
        next unless $n;
        $bytes += $n;
        $tail{$fh} = substr(($tail{$fh} // '') . $buf, -4096);
    }
    last if $done
        && !grep { index($tail{$_->sock} // '', $last) < 0 } @ws;
}
my $secs = time - $t0;
my $cpu = cpu() - $cpu0;

if ($perf) {
    kill 'INT', $perf;
    waitpid($perf, 0);
    print "bench: perf report -i " . $t->dir . "/perf.data --no-children\n";
}

printf "bench: %.2f s, %d ticks (%.0f/s), %.1f MB to spectators, "
    . "worker CPU %.2f s, subscriber dropped by Redis %d times\n", $secs,
    $TICKS, $TICKS / $secs, $bytes / 1e6, $cpu,
    scalar(() = $t->read_file('error.log') =~ /subscriber connection lost/g);

$t->{done} = 1;
$t->stop_all;
