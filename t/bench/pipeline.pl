#!/usr/bin/perl

# The live pipeline's benchmark: the release build, real Redis, Kafka,
# FerretDB and race-tracker on loopback, race-sim playing RACES x RIDERS
# phones at a fix a second for SECONDS, and a spectator on every race.
# Prints figures; asserts nothing.  Bounded: it stops by itself.
#
#   t/bench/pipeline.pl [RACES [RIDERS [SECONDS]]]     (20 50 30)
#   t/bench/pipeline.pl capacity [RACES [RIDERS [SECONDS [SPECTATORS]]]]
#                                                      (20 50 30 250)
#
# Besides the human lines it prints "capacity KEY=VALUE UNIT" lines, the
# figures tools/capacity reads (docs/CAPACITY.md): the CPU seconds each
# process spent per fix (from /proc/PID/stat, less what it spends idle),
# the size of a fix in Kafka and in MongoDB (FerretDB), what the busiest
# partition took.  "capacity" adds the spectators' run: while RIDERS
# riders ride one race, SPECTATORS idle spectators (on a race nobody
# rides) and then SPECTATORS watching ones connect; the nginx workers'
# RSS and CPU before and after say the memory per spectator and the CPU
# per tick frame delivered.  Every command it runs is printed ("$ ...").

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";

use JSON::PP;
use POSIX ();
use Time::HiRes qw(time sleep);
use Race::Test;
use Race::Platform;
use Race::WS;

my $capacity = @ARGV && $ARGV[0] eq 'capacity' ? shift @ARGV : 0;
my ($races, $riders, $secs, $nspec) = (@ARGV, 20, 50, 30, 250)[0 .. 3];
$_ = $_ + 0 for $races, $riders, $secs, $nspec;

my $HZ = POSIX::sysconf(POSIX::_SC_CLK_TCK()) || 100;

my $t = Race::Test->new;

sub cpuinfo {
    my $model = '?';
    open my $fh, '<', '/proc/cpuinfo' or return $model;
    while (<$fh>) {
        return $1 if /^model name\s*:\s*(.+?)\s*$/;
    }
    return $model;
}

sub loadavg {
    open my $fh, '<', '/proc/loadavg' or return '?';
    my @l = split ' ', <$fh>;
    return "@l[0 .. 2]";
}

my $ncpu = `nproc` + 0;

printf "# %s, %d cores (%s), load average %s at start\n",
    POSIX::strftime('%Y-%m-%d %H:%M:%S UTC', gmtime), $ncpu, cpuinfo(),
    loadavg();
print "# the machine's cores are shared with whatever else runs on it:\n"
    . "# the figures are what this run got, not what a quiet core gives\n"
    if $capacity;
print "\$ t/bench/pipeline.pl ", join(' ', $capacity ? 'capacity' : (),
    $races, $riders, $secs, $capacity ? $nspec : ()), "\n";
printf "capacity machine.cores=%d cores\n", $ncpu;

my $p = Race::Platform->start($t, tick_ms => 250, nginx_workers => 2);
my $port = $p->port;

sub nginx_workers {
    my $master = $t->pid('nginx') or return ();
    return split ' ', `pgrep -P $master`;
}

sub rss_kb {
    my $kb = 0;
    for my $pid (@_) {
        open my $fh, '<', "/proc/$pid/status" or next;
        while (<$fh>) {
            $kb += $1 if /^VmRSS:\s+(\d+)/;
        }
    }
    return $kb;
}

sub workers_rss { rss_kb(nginx_workers()) }

# utime + stime of the processes, in seconds
sub cpu_s {
    my $ticks = 0;
    for my $pid (@_) {
        open my $fh, '<', "/proc/$pid/stat" or next;
        my $stat = <$fh>;
        # the fields after the command's name, which may hold spaces
        $stat =~ s/^.*\)\s+//;
        my @f = split ' ', $stat;
        $ticks += $f[11] + $f[12];
    }
    return $ticks / $HZ;
}

# the processes of each component, looked up again at every sample:
# a component restarted would show, not be missed
my @COMPONENTS = qw(nginx tracker kafka mongo redis);
my %NAME = (mongo => 'ferretdb');

sub pids_of {
    my ($c) = @_;
    return nginx_workers() if $c eq 'nginx';
    my $pid = $t->pid($NAME{$c} || $c);
    return $pid ? ($pid) : ();
}

sub sample {
    return { time => time, map { ($_ => cpu_s(pids_of($_))) } @COMPONENTS };
}

sub sim_cmd {
    my ($name, @args) = @_;
    my @shown = map { / / ? "'$_'" : $_ } @args;
    # one line, whatever the number of --watch URLs: the first and the
    # last, and how many
    my @urls = map { $args[$_ + 1] } grep { $args[$_] eq '--watch' }
        0 .. $#args - 1;
    if (@urls > 2) {
        @shown = ((grep { $_ ne '--watch' && !m{/live/} } @shown),
            "--watch $urls[0] ... --watch $urls[-1] (" . @urls . ' URLs)');
    }
    # the run's folder and port vary: named, not printed
    my $cmd = "race-sim @shown";
    my $dir = $t->dir;
    $cmd =~ s/\Q$dir\E/\$DIR/g;
    $cmd =~ s/127\.0\.0\.1:$port/127.0.0.1:\$PORT/g;
    print "\$ $cmd\n";
    $p->sim_start($name, @args);
}

sub capacity_line {
    my ($key, $value, $unit, $fmt) = @_;
    printf "capacity %s=%s %s\n", $key,
        defined $value ? sprintf($fmt || '%.6g', $value) : 'NA', $unit;
}

# the idle rates first: what each process spends with nothing to do
# (a JVM's housekeeping, the watchdogs), taken out of the figures
sim_cmd('spectators',
    (map { ('--watch', "ws://127.0.0.1:$port/live/r$_") } 1 .. $races),
    '--watch-seconds', $secs + 25);

my $idle0 = sample();
sleep 5;
my $idle1 = sample();
my $rss0 = workers_rss();
my %idle = map {
    ($_ => ($idle1->{$_} - $idle0->{$_}) / ($idle1->{time} - $idle0->{time}))
} @COMPONENTS;

my $start = time;
my $c0 = sample();
sim_cmd('riders', $p->rider_args, '--races', $races, '--riders', $riders,
    '--duration', $secs, '--interval-ms', 1000, '--ramp-ms', 1000,
    '--drain-seconds', 30);

my $peak = 0;
while ($t->running('sim-riders') && time < $start + $secs + 60) {
    my $rss = workers_rss();
    $peak = $rss if $rss > $peak;
    sleep 1;
}

my $r = $p->sim_wait('riders', 10);
my $elapsed = time - $start;
my $acked = $r->{acked} || 0;

# the tracker's share ends when every acked fix is stored
my $stored = 0;
my $end = time + 60;
while (time < $end) {
    $stored = $p->mongo_count;
    last if $stored =~ /^\d+$/ && $stored >= $acked;
    sleep 0.2;
}
my $c1 = sample();

my $w = $p->sim_wait('spectators', $secs + 30);

my $ticks = 0;
$ticks += $_->{ticks} for @{$w->{watches} || []};

my $l = $r->{latency_ms} || {};

printf "pipeline: %d races x %d riders, %d s, 2 nginx workers\n",
    $races, $riders, $secs;
printf "  fixes sent %d, acked %d, unacked %d, reconnects %d\n",
    $r->{sent} || 0, $acked, $r->{unacked} || 0, $r->{reconnects} || 0;
printf "  acks per second %.0f\n", $acked / ($elapsed || 1);
printf "  ack latency ms: p50 %.1f  p95 %.1f  p99 %.1f  max %.1f\n",
    map { $_ || 0 } @$l{qw(p50 p95 p99 max)};
printf "  spectators %d, ticks received %d, out of order %d\n",
    scalar @{$w->{watches} || []}, $ticks, $w->{out_of_order} || 0;
printf "  nginx workers' RSS: %.1f MB idle, %.1f MB peak\n",
    $rss0 / 1024, $peak / 1024;
printf "  fixes stored in MongoDB %s (%.1f s after the first fix)\n",
    $stored, $c1->{time} - $c0->{time};

# CPU per fix: the run's CPU less the idle rate over the same time
my $span = $c1->{time} - $c0->{time};
my $total = 0;
printf "  CPU seconds per 1,000 fixes (idle rate taken out):\n";

capacity_line('pipeline.races', $races, 'races');
capacity_line('pipeline.riders_per_race', $riders, 'riders');
capacity_line('pipeline.fix_interval', 1, 's');
capacity_line('pipeline.seconds', $secs, 's');
capacity_line('pipeline.fixes_acked', $acked, 'fixes');
capacity_line('pipeline.fixes_stored', $stored =~ /^\d+$/ ? $stored : undef,
    'fixes');
capacity_line('pipeline.acks_per_s', $acked / ($elapsed || 1), 'fixes/s',
    '%.1f');
capacity_line('pipeline.ack_latency_p99', $l->{p99} || 0, 'ms', '%.1f');

for my $c (@COMPONENTS) {
    my $used = $c1->{$c} - $c0->{$c} - $idle{$c} * $span;
    $used = 0 if $used < 0;
    my $per = $acked ? $used / $acked : undef;
    $total += $per || 0;
    printf "    %-8s %.3f (%.2f CPU s in %.1f s, idle %.3f cores)\n",
        $c, ($per || 0) * 1000, $used, $span, $idle{$c};
    capacity_line("cpu_per_fix.$c", $per, 's/fix');
    capacity_line("cpu_idle.$c", $idle{$c}, 'cores');
}
printf "    %-8s %.3f: %.0f fixes/s per core through the pipeline\n",
    'total', $total * 1000, $total ? 1 / $total : 0;
capacity_line('cpu_per_fix.pipeline', $total, 's/fix');
capacity_line('pipeline.fixes_per_core', $total ? 1 / $total : undef,
    'fixes/s');

# resident memory of each process now, after the run
for my $c (@COMPONENTS) {
    capacity_line("rss.$c", rss_kb(pids_of($c)) * 1024, 'bytes', '%d');
}
capacity_line('rss.nginx_idle', $rss0 * 1024, 'bytes', '%d');

# MongoDB (FerretDB on SQLite): the collection's own figures, and the
# BSON size of the documents as a client reads them
my $stats = $p->mongo('stats');
my %ms = $stats =~ /^(\w+) (\d+)$/mg;
print "  MongoDB fixes collection (FerretDB, SQLite):",
    (map { " $_ $ms{$_}" } sort keys %ms), "\n";
if ($ms{documents}) {
    capacity_line('mongo.documents', $ms{documents}, 'documents');
    capacity_line('mongo.bson_per_fix', $ms{bson_bytes} / $ms{documents},
        'bytes', '%.1f');
    for my $k (qw(size storageSize totalIndexSize)) {
        next unless defined $ms{$k};
        capacity_line("mongo.ferretdb_${k}_per_fix", $ms{$k} / $ms{documents},
            'bytes', '%.1f');
    }

} else {
    print "  collStats failed: $stats\n";
}

# Redis: what the races' states hold
my $rinfo = `redis-cli -p $p->{redis_port} info memory 2>&1`;
if ($rinfo =~ /^used_memory:(\d+)/m) {
    capacity_line('redis.used_memory', $1, 'bytes', '%d');
}
my $rkeys = `redis-cli -p $p->{redis_port} dbsize 2>&1`;
capacity_line('redis.keys', $rkeys =~ /(\d+)/ ? $1 : undef, 'keys');

# Kafka: the partitions' log segments (record batch headers: v2 format,
# 61 bytes; the count of records at byte 57), and the messages as the
# consumer reads them, keys and values
sub kafka_partitions {
    my ($dir, $topic) = @_;
    my @parts;
    for my $pdir (glob "$dir/$topic-*") {
        my ($n) = $pdir =~ /-(\d+)$/ or next;
        my ($bytes, $msgs, $batches) = (0, 0, 0);
        for my $log (glob "$pdir/*.log") {
            open my $fh, '<:raw', $log or next;
            local $/;
            my $d = <$fh>;
            my $pos = 0;
            while ($pos + 61 <= length $d) {
                my $len = unpack 'N', substr($d, $pos + 8, 4);
                last if $len < 49;
                $msgs += unpack 'N', substr($d, $pos + 57, 4);
                $bytes += 12 + $len;
                $batches++;
                $pos += 12 + $len;
            }
        }
        push @parts, { n => $n, bytes => $bytes, msgs => $msgs,
            batches => $batches };
    }
    return sort { $a->{n} <=> $b->{n} } @parts;
}

my @parts = kafka_partitions($t->{kafka}{data}, $p->{topic});
my ($busy) = sort { $b->{msgs} <=> $a->{msgs} } @parts;
my ($kmsgs, $kbytes) = (0, 0);
for (@parts) {
    $kmsgs += $_->{msgs};
    $kbytes += $_->{bytes};
    printf "  kafka %s-%d: %d messages, %d bytes, %d batches\n",
        $p->{topic}, $_->{n}, $_->{msgs}, $_->{bytes}, $_->{batches};
}
capacity_line('kafka.partitions', scalar @parts, 'partitions');
if ($kmsgs) {
    capacity_line('kafka.messages', $kmsgs, 'messages');
    capacity_line('kafka.log_bytes_per_message', $kbytes / $kmsgs, 'bytes',
        '%.1f');
    capacity_line('kafka.fixes_per_message', $acked / $kmsgs, 'fixes',
        '%.3f');
    capacity_line('kafka.busiest_partition_messages_per_s',
        $busy->{msgs} / $secs, 'messages/s', '%.1f');
    capacity_line('kafka.busiest_partition_bytes_per_s',
        $busy->{bytes} / $secs, 'bytes/s', '%.0f');
}

my $dump = $t->build . '/t/kafka_dump';
if (-x $dump) {
    my ($n, $kv) = (0, 0);
    open my $fh, '-|', $dump, $p->{kafka}, $p->{topic}
        or die "$dump: $!\n";
    while (<$fh>) {
        chomp;
        next if /^count \d+$/;
        $n++;
        $kv += length($_) - 1;     # the tab
    }
    close $fh;
    capacity_line('kafka.message_bytes', $kv / $n, 'bytes', '%.1f') if $n;
}

# the web client's files, once each, as a spectator's browser gets them
# (compressed with gzip: what a CDN serves)
my $html = $t->build . '/html';
if (-d $html) {
    my $gz = `cd '$html' && find . -type f ! -name '*.map' -print0 \\
        | xargs -0 cat | gzip -9 | wc -c`;
    capacity_line('web.app_bytes_gzip', $gz + 0, 'bytes', '%d');
}

if ($capacity) {
    spectators();
}

$t->stop_all;

# ESTABLISHED connections to nginx's port (/proc/net/tcp, state 01)
sub established {
    my $n = 0;
    my $hex = sprintf ':%04X', $port;
    open my $fh, '<', '/proc/net/tcp' or return 0;
    while (<$fh>) {
        my @f = split ' ';
        $n++ if $f[1] && substr($f[1], -5) eq $hex && $f[3] eq '01';
    }
    return $n;
}

sub wait_established {
    my ($n, $secs) = @_;
    my $end = time + $secs;
    while (time < $end) {
        return 1 if established() >= $n;
        sleep 0.2;
    }
    return 0;
}

# the spectators' run: one race ridden by $riders riders, $nspec idle
# spectators then $nspec watching ones; a spectator of our own reads
# the ticks to size them
sub spectators {
    # the runs are stopped when the window is over; these only bound them
    my $window = 10;
    my $watch_s = 120;
    my $ride_s = 150;

    print "spectators: 1 race (s1) x $riders riders, $nspec idle "
        . "spectators (race idle1), $nspec watching (race s1)\n";

    sim_cmd('ride2', $p->rider_args, '--races', 1, '--race-prefix', 's',
        '--riders', $riders, '--duration', $ride_s, '--interval-ms', 1000,
        '--ramp-ms', 1000, '--drain-seconds', 10);

    # riders only: the nginx workers' CPU rate without spectators
    sleep 5;
    my $base_conns = established();
    my $b0 = cpu_s(nginx_workers());
    my $bt = time;
    sleep $window;
    my $base_rate = (cpu_s(nginx_workers()) - $b0) / (time - $bt);
    my $rss_a = workers_rss();

    sim_cmd('idle', (map { ('--watch', "ws://127.0.0.1:$port/live/idle1") }
        1 .. $nspec), '--watch-seconds', $watch_s);
    my $ok_idle = wait_established($base_conns + $nspec, 30);
    sleep 2;
    my $rss_b = workers_rss();

    sim_cmd('watch', (map { ('--watch', "ws://127.0.0.1:$port/live/s1") }
        1 .. $nspec), '--watch-seconds', $watch_s);
    my $ok_watch = wait_established($base_conns + 2 * $nspec, 30);
    sleep 2;
    my $rss_c = workers_rss();

    # the window: our own spectator counts what each watching one gets
    my $ws = Race::WS->start(port => $port, path => '/live/s1');
    my ($frames, $bytes, $states, $inner, $snap) = (0, 0, 0, 0, 0);
    my $w0 = cpu_s(nginx_workers());
    my $wt = time;
    my $wend = $wt + $window;
    while (time < $wend) {
        my $f = eval { $ws->read_frame(1) };
        last if defined $f && !ref $f;          # 'eof'
        next unless ref $f && $f->{opcode} == Race::WS::TEXT;
        my $m = eval { decode_json($f->{payload}) } or next;
        if (($m->{type} || '') eq 'tick') {
            $frames++;
            # the frame as sent: a server frame has a 2-byte header, 4
            # with a payload of 126 to 65535 bytes
            my $len = length $f->{payload};
            $bytes += $len + ($len < 126 ? 2 : $len < 65536 ? 4 : 10);
            $states += @{$m->{riders} || []};
            # the states' own bytes: the riders array's inside
            $inner += length $1 if $f->{payload} =~ /"riders":\[(.*)\]/s;

        } elsif (($m->{type} || '') eq 'snapshot') {
            $snap = length $f->{payload};
        }
    }
    my $wspan = time - $wt;
    my $wcpu = cpu_s(nginx_workers()) - $w0;

    # stopped (TERM), they write their reports
    my $wi = $p->sim_wait('watch', 0.1);
    my $ii = $p->sim_wait('idle', 0.1);
    my $ri = $p->sim_wait('ride2', 0.1);
    $ws->disconnect;

    my $nframes = $frames * ($nspec + 1);
    my $extra = $wcpu - $base_rate * $wspan;
    $extra = 0 if $extra < 0;

    printf "  connected: idle %s, watching %s (within 30 s)\n",
        $ok_idle ? 'all' : 'NOT all', $ok_watch ? 'all' : 'NOT all';
    printf "  nginx workers' RSS: %.1f MB riders only, %.1f MB + idle, "
        . "%.1f MB + watching\n", $rss_a / 1024, $rss_b / 1024,
        $rss_c / 1024;
    printf "  nginx workers' CPU: %.3f cores riders only, %.3f cores with "
        . "spectators\n", $base_rate, $wcpu / $wspan;
    printf "  one spectator's window: %d ticks, %d bytes, %d rider states "
        . "in %.1f s; snapshot %d bytes\n", $frames, $bytes, $states,
        $wspan, $snap;
    printf "  watching spectators' reports: %d ticks, %d connected, "
        . "out of order %d\n", $wi->{ticks} || 0,
        scalar(grep { $_->{connects} } @{$wi->{watches} || []}),
        $wi->{out_of_order} || 0;
    printf "  idle spectators' reports: %d connected\n",
        scalar(grep { $_->{connects} } @{$ii->{watches} || []});
    printf "  riders: sent %d, acked %d\n", $ri->{sent} || 0,
        $ri->{acked} || 0;

    capacity_line('spectators.riders', $riders, 'riders');
    capacity_line('spectators.tick_ms', 250, 'ms');
    capacity_line('spectators.idle', $ok_idle ? $nspec : undef,
        'spectators');
    capacity_line('spectators.watching', $ok_watch ? $nspec : undef,
        'spectators');
    capacity_line('spectators.rss_per_idle', $ok_idle
        ? ($rss_b - $rss_a) * 1024 / $nspec : undef, 'bytes', '%.0f');
    capacity_line('spectators.rss_per_watching', $ok_watch
        ? ($rss_c - $rss_b) * 1024 / $nspec : undef, 'bytes', '%.0f');
    capacity_line('spectators.frames_per_s', $frames / $wspan,
        'frames/s', '%.3f');
    capacity_line('spectators.bytes_per_s', $bytes / $wspan, 'bytes/s',
        '%.1f');
    capacity_line('spectators.tick_bytes', $frames ? $bytes / $frames
        : undef, 'bytes', '%.1f');
    capacity_line('spectators.state_bytes', $states ? $inner / $states
        : undef, 'bytes', '%.1f');
    capacity_line('spectators.tick_overhead_bytes', $frames
        ? ($bytes - $inner) / $frames : undef, 'bytes', '%.1f');
    capacity_line('spectators.states_per_s', $states / $wspan, 'states/s',
        '%.2f');
    capacity_line('spectators.snapshot_bytes', $snap, 'bytes', '%d');
    capacity_line('spectators.cpu_per_frame', $nframes && $ok_watch
        ? $extra / $nframes : undef, 's/frame');
    capacity_line('spectators.cpu_riders_only', $base_rate, 'cores',
        '%.4f');
}
