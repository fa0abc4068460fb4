#!/usr/bin/perl

# The live pipeline's benchmark: the release build, real Redis, Kafka,
# FerretDB, race-tracker and race-accounts on loopback, race-sim playing
# RACES x RIDERS phones at a fix a second and spectators on a sample of
# the races.  Prints figures; bounded: it stops by itself.
#
#   t/bench/pipeline.pl [options] [RACES [RIDERS [SECONDS]]]  (20 50 30)
#   t/bench/pipeline.pl capacity [options] [RACES [RIDERS [SECONDS
#                                [SPECTATORS]]]]          (20 50 30 250)
#
# The run: the phones connect (spread over --ramp-ms), --warmup seconds
# go by, then a measured window of SECONDS; the phones stop at its end
# and the drain (every fix sent acked, then stored in MongoDB) is timed
# apart.  Rates are over the window only: fixes taken and acks received
# within it (race-sim's --window-at), divided by its length.  Over the
# window: ack latency (last send to ack), fix-to-spectator latency (a
# fix's t, the phone's clock when it sent it, to the arrival of the tick
# frame that carries it), each second's and the whole window's p50, p99
# and max; the CPU of each process (/proc/PID/stat, idle rate taken
# out) as % of a core and CPU-us per fix; fixes/s stored per
# race-tracker (its metrics) and the Kafka consumer lag.
#
# It FAILS (exit 1) when nginx's error log has an [alert] or [emerg]
# (worker_connections are not enough...) or when the phones and
# spectators reconnected more than --max-reconnects times: their figures
# would not be the pipeline's.  nginx's worker_connections and
# worker_rlimit_nofile are sized to the phones and spectators; the
# bench raises its RLIMIT_NOFILE to the hard limit (race-sim inherits
# it), and stops at once when that is too low for the load.
#
# Options:
#   --warmup S            before the window (10)
#   --spectators N        races watched, one spectator each, spread over
#                         the races (the smaller of RACES and 100)
#   --partitions N        of race.fixes (3)
#   --trackers N          race-tracker processes in one consumer group (1)
#   --tracker-set NAME=VALUE  a race-tracker setting (repeatable):
#                         store_writers=4, batch_max=2000...
#   --nginx-workers N     (2)
#   --worker-connections N  instead of the size worked out (to prove the
#                         failure: too few)
#   --ride-conf TEXT      more directives in nginx's /ride location
#   --max-reconnects N    (a thousandth of the connections)
#   --drain S             longest wait for acks and storage after (60)
#   --ramp                steps of RACES, RACES + --ramp-step ... up to
#                         --ramp-max races (RACES x 10) of RIDERS riders,
#                         each with its own warm-up and window, until one
#                         is not held; prints the highest held rate and
#                         what saturated first; without --ramp-max, the
#                         top is also what the hard limit of open files
#                         lets connect
#   --tick-ms MS          race-tracker's tick_ms (250): the live view's
#                         latency is at least the wait for the next tick
#
# What saturated first (a step not held): a process at a full core; else
# the storage when the consumer lag grows while the trackers had every
# batch in flight (store_batches) for most of the window, which is
# their backpressure: MongoDB (FerretDB here) takes the writes slower
# than they come, and the trackers wait on it; but the machine when its
# processes took 85 % of its cores or more (the storage waits for a
# core then, like the rest); else the consumers.  The
# trackers' metrics say it, sampled every half second: batches in
# flight, the MongoDB writes' count and time (their writers' busy
# share), the writes retried.
#
# Besides the human lines it prints "capacity KEY=VALUE UNIT" lines, the
# figures tools/capacity reads (docs/CAPACITY.md): the CPU seconds each
# process spent per fix, the size of a fix in Kafka and in MongoDB
# (FerretDB), what the busiest partition took.  "capacity" adds the
# spectators' run: while RIDERS riders ride one race, SPECTATORS idle
# spectators (on a race nobody rides) and then SPECTATORS watching ones
# connect; the nginx workers' RSS and CPU before and after say the memory
# per spectator and the CPU per tick frame delivered.  Every command it
# runs is printed ("$ ...").

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";

use Getopt::Long qw(GetOptionsFromArray);
use HTTP::Tiny;
use JSON::PP;
use POSIX ();
use Time::HiRes qw(time sleep);
use Race::Test;
use Race::Platform;
use Race::WS;

my @argv = @ARGV;
my $capacity = @argv && $argv[0] eq 'capacity' ? shift @argv : 0;
my %o = (warmup => 10, partitions => 3, trackers => 1, nginx_workers => 2,
    drain => 60);
my @tracker_set;
GetOptionsFromArray(\@argv, \%o, 'warmup=i', 'spectators=i',
    'partitions=i', 'trackers=i', 'nginx-workers=i' => \$o{nginx_workers},
    'tracker-set=s' => \@tracker_set,
    'worker-connections=i' => \$o{worker_connections},
    'ride-conf=s' => \$o{ride_conf},
    'max-reconnects=i' => \$o{max_reconnects}, 'drain=i', 'ramp',
    'ramp-step=i' => \$o{ramp_step}, 'ramp-max=i' => \$o{ramp_max},
    'tick-ms=i' => \$o{tick_ms})
    or die "usage: see the top of t/bench/pipeline.pl\n";
my ($races, $riders, $secs, $nspec) = (@argv, 20, 50, 30, 250)[0 .. 3];
$_ = $_ + 0 for $races, $riders, $secs, $nspec;
die "RACES, RIDERS and SECONDS must be at least 1\n"
    if $races < 1 || $riders < 1 || $secs < 1;
$o{ramp_step} ||= $races;
die "--ramp-step and --ramp-max must be at least 1\n"
    if $o{ramp_step} < 1 || (defined $o{ramp_max} && $o{ramp_max} < 1);
my $ramp_max_given = defined $o{ramp_max};
$o{ramp_max} ||= $races * 10;
die "--tick-ms must be from 50 to 5000 (race-tracker's tick_ms)\n"
    if defined $o{tick_ms} && ($o{tick_ms} < 50 || $o{tick_ms} > 5000);

# the most races a step rides: what the limits are sized for
my $max_races = $o{ramp} ? $o{ramp_max} : $races;
my $nwatch = defined $o{spectators} ? $o{spectators}
    : $max_races < 100 ? $max_races : 100;

my $HZ = POSIX::sysconf(POSIX::_SC_CLK_TCK()) || 100;
my $TICK_MS = $o{tick_ms} || 250;

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

sub read_first_line {
    my ($file) = @_;
    open my $fh, '<', $file or return '';
    my $l = <$fh> // '';
    chomp $l;
    return $l;
}

my $ncpu = `nproc` + 0;

printf "# %s, %d cores (%s), load average %s at start\n",
    POSIX::strftime('%Y-%m-%d %H:%M:%S UTC', gmtime), $ncpu, cpuinfo(),
    loadavg();
print "# the machine's cores are shared with whatever else runs on it:\n"
    . "# the figures are what this run got, not what a quiet core gives\n";
print "\$ t/bench/pipeline.pl @ARGV\n";
printf "capacity machine.cores=%d cores\n", $ncpu;

# --- connection limits sized to the load ---------------------------------

my ($max_phones, $conns, $margin, $wconns, $nofile, $need);
my $capped = 0;       # the ramp's top lowered to the open files limit

sub size_limits {
    $max_phones = $max_races * $riders;
    $conns = $max_phones + $nwatch;
    $margin = 256 + int($conns / 10);

    # each worker may get every connection: accepting is not shared evenly
    $wconns = $o{worker_connections} || $conns + $margin;
    $nofile = $wconns + 1024;     # and Kafka's, Redis's sockets, the logs
    $need = $nofile > $conns + 64 ? $nofile : $conns + 64;
}

size_limits();

sub nofile_limits {
    my ($pid) = @_;
    open my $fh, '<', "/proc/$pid/limits" or return;
    while (<$fh>) {
        return ($1, $2) if /^Max open files\s+(\S+)\s+(\S+)/;
    }
    return;
}

{
    my ($soft, $hard) = nofile_limits($$);
    die "no RLIMIT_NOFILE in /proc/$$/limits\n" unless defined $hard;
    $hard = 1e12 if $hard eq 'unlimited';
    $soft = 1e12 if $soft eq 'unlimited';

    # root may raise the hard limit too, up to fs.nr_open (not in every
    # container: then the limit stays, and what follows says so)
    if ($hard < $need && $> == 0) {
        my $open = read_first_line('/proc/sys/fs/nr_open') || 0;
        my $to = $need < $open ? $need : $open;
        if (system('prlimit', "--pid=$$", "--nofile=$to:$to") == 0) {
            ($soft, $hard) = nofile_limits($$);
        } else {
            print "# could not raise the hard limit of open files from"
                . " $hard to $to\n";
        }
    }

    # a ramp whose top was not asked for stops where the limit does
    if ($hard < $need && $o{ramp} && !$ramp_max_given) {
        my $fit = $races;
        while ($fit + $o{ramp_step} <= $o{ramp_max}) {
            $max_races = $fit + $o{ramp_step};
            size_limits();
            last if $need > $hard;
            $fit = $max_races;
        }
        $max_races = $o{ramp_max} = $fit;
        $capped = 1;
        size_limits();
        print "# the ramp stops at $fit races: more phones need more than"
            . " the hard limit of $hard open files\n" if $need <= $hard;
    }

    if ($hard < $need) {
        die "FAIL: the hard limit of open files is $hard, and "
            . "$max_races x $riders phones + $nwatch spectators need "
            . "$need (nginx's worker_rlimit_nofile); raise it (ulimit -Hn, "
            . "limits.conf, or run as root) or ask for less\n";
    }

    if ($soft < $hard) {
        my $h = $hard >= 1e12 ? 'unlimited' : $hard;
        system('prlimit', "--pid=$$", "--nofile=$h:$h") == 0
            or die "prlimit --pid=$$ --nofile=$h:$h failed\n";
    }

    ($soft, $hard) = nofile_limits($$);
    printf "# open files: soft %s, hard %s; nginx: worker_connections %d, "
        . "worker_rlimit_nofile %d\n", $soft, $hard, $wconns, $nofile;
}

# one source address has the ephemeral ports' range towards nginx's port
my @range = split ' ',
    read_first_line('/proc/sys/net/ipv4/ip_local_port_range');
my $ports = @range == 2 ? $range[1] - $range[0] + 1 : 28232;
my $source_ips = int($conns / ($ports * 0.8)) + 1;
if ($source_ips > 254) {
    die "FAIL: $conns connections need more than 254 loopback source "
        . "addresses of $ports ports each\n";
}
printf "# %d connections at most from %d loopback source address%s "
    . "(%d ephemeral ports each)\n", $conns, $source_ips,
    $source_ips > 1 ? 'es' : '', $ports;

# --- the platform ------------------------------------------------------------

my $p = Race::Platform->start($t, tick_ms => $TICK_MS,
    nginx_workers => $o{nginx_workers}, partitions => $o{partitions},
    worker_connections => $wconns, main => "worker_rlimit_nofile $nofile;",
    ride => $o{ride_conf}, no_tracker => 1);
my $port = $p->port;

# the trackers, one consumer group; each serves its metrics on a port
my @TRACKERS = map { "tracker$_" } 1 .. $o{trackers};
my %metrics_port;
my %tset = map { /^(\w+)=(.*)$/ ? ($1 => $2)
    : die "--tracker-set $_: NAME=VALUE\n" } @tracker_set;
# what "every batch in flight" is (race-tracker's default otherwise)
my $store_batches = $tset{store_batches} || 8;
my $store_writers = $tset{store_writers} || 2;
for my $name (@TRACKERS) {
    $metrics_port{$name} = $t->port;
    # each its own static member of the group
    $p->start_tracker_named($name, %tset, kafka_instance_id => "bench-$name",
        metrics_listen => "127.0.0.1:$metrics_port{$name}");
}
$p->start_accounts;
printf "# nginx %d workers, race.fixes %d partitions, %d race-tracker%s "
    . "in one group (store_batches %d, store_writers %d%s), race-accounts, "
    . "tick %d ms\n", $o{nginx_workers}, $o{partitions}, $o{trackers},
    $o{trackers} > 1 ? 's' : '', $store_batches, $store_writers,
    join('', map { ", $_ $tset{$_}" }
        grep { !/^store_(?:batches|writers)$/ } sort keys %tset),
    $TICK_MS;

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

# the components (capacity's keys), looked up again at every sample: a
# component restarted would show, not be missed; and each process
my @COMPONENTS = qw(nginx tracker kafka mongo redis accounts);
my %NAME = (mongo => 'ferretdb');

sub pids_of {
    my ($c) = @_;
    return nginx_workers() if $c eq 'nginx';
    return grep { $_ } map { $t->pid($_) } @TRACKERS if $c eq 'tracker';
    my $pid = $t->pid($NAME{$c} || $c);
    return $pid ? ($pid) : ();
}

# the processes one by one: "nginx worker 1", "tracker2", "kafka"...
sub processes {
    my @w = nginx_workers();
    my @p = map { ["nginx worker " . ($_ + 1), $w[$_]] } 0 .. $#w;
    push @p, map { [$_, $t->pid($_)] } grep { $t->pid($_) } @TRACKERS;
    for my $c (qw(kafka ferretdb redis accounts sim-riders sim-watch)) {
        my $pid = $t->pid($c);
        push @p, [$c, $pid] if $pid;
    }
    return @p;
}

sub sample {
    my %s = (time => time, map { ($_ => cpu_s(pids_of($_))) } @COMPONENTS);
    $s{proc}{$_->[0]} = cpu_s($_->[1]) for processes();
    return \%s;
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

# the trackers' own figures: fixes stored, consumer lag of the partitions
# each holds
sub tracker_metrics {
    my %m;
    for my $name (@TRACKERS) {
        my $res = HTTP::Tiny->new(timeout => 5)
            ->get("http://127.0.0.1:$metrics_port{$name}/metrics");
        my ($stored, $lag, $parts) = (undef, 0, 0);
        my %w = (inflight => undef, writes => 0, write_s => 0, retries => 0,
            batches => 0, batch_fixes => 0);
        if ($res->{success}) {
            my $L = qr/(?:\{[^}]*\})?\s+(\S+)/;
            for (split /\n/, $res->{content}) {
                $stored = $1 if /^race_tracker_fixes_stored_total\s+(\S+)/;
                if (/^race_worker_kafka_consumer_lag\{[^}]*\}\s+(\S+)/) {
                    $lag += $1;
                    $parts++;
                }
                $w{inflight} = $1 if /^race_tracker_batches_in_flight$L/;
                $w{writes} = $1 if /^race_worker_mongodb_write_seconds_count$L/;
                $w{write_s} = $1 if /^race_worker_mongodb_write_seconds_sum$L/;
                $w{retries} = $1 if /^race_worker_write_retries_total$L/;
                $w{batches} = $1 if /^race_tracker_batch_fixes_count$L/;
                $w{batch_fixes} = $1 if /^race_tracker_batch_fixes_sum$L/;
            }
        }
        $m{$name} = { stored => $stored, lag => $lag, partitions => $parts,
            %w };
    }
    return \%m;
}

sub sum_of {
    my ($m, $k) = @_;
    my $n = 0;
    $n += $_->{$k} || 0 for values %$m;
    return $n;
}

# nginx's error log from an offset on: its alerts and emergencies
my $errlog = $t->dir . '/error.log';
sub nginx_alerts {
    my ($from) = @_;
    open my $fh, '<', $errlog or return ();
    seek $fh, $from, 0;
    return grep { /\[(?:alert|emerg)\]/ } <$fh>;
}

# p50, p99, max of a list of numbers (nearest rank)
sub pct {
    my @v = sort { $a <=> $b } @_;
    return (0, 0, 0) unless @v;
    my $at = sub { my $i = POSIX::ceil($_[0] * @v) - 1; $v[$i < 0 ? 0 : $i] };
    return ($at->(0.5), $at->(0.99), $v[-1]);
}

sub fmt_ms {
    my ($l) = @_;
    return sprintf '%.1f/%.1f/%.1f', map { $_ || 0 }
        @{$l || {}}{qw(p50 p99 max)};
}

# the idle rates first: what each process spends with nothing to do
# (a JVM's housekeeping, the watchdogs), taken out of the figures
my $idle0 = sample();
sleep 5;
my $idle1 = sample();
my $rss0 = workers_rss();
my $idle_span = $idle1->{time} - $idle0->{time};
my %idle = map { ($_ => ($idle1->{$_} - $idle0->{$_}) / $idle_span) }
    @COMPONENTS;
my %idle_proc = map {
    ($_ => (($idle1->{proc}{$_} // 0) - ($idle0->{proc}{$_} // 0))
        / $idle_span)
} keys %{$idle1->{proc}};

my @fail;                   # why the bench fails
my $log_pos = 0;            # nginx's error log read up to here
my %dead;                   # processes that exited, said once
my $stored_total = 0;       # fixes every step stored, for the drains
my $acked_total = 0;
my $send_secs = 0;          # every step's sending time, for Kafka's rates

# one step: RACES x RIDERS phones from race prefix PREFIX; returns what
# was measured
sub step {
    my ($nraces, $prefix) = @_;

    my $phones = $nraces * $riders;
    my $ramp_ms = $phones > 10000 ? int($phones / 10) : 1000;
    my $log_from = $log_pos;

    # the races watched, spread over the ridden ones
    my $nw = $nwatch < $nraces ? $nwatch : $nraces;
    my @watched = map { 1 + int($_ * $nraces / $nw) } 0 .. $nw - 1;

    my $now_ms = int(time * 1000);
    my $win_at = $now_ms + $ramp_ms + $o{warmup} * 1000 + 1000;
    my $win_ms = $secs * 1000;
    my $duration = POSIX::ceil(($win_at + $win_ms - $now_ms) / 1000);
    $send_secs += $duration;
    my @window = ('--window-at', $win_at, '--window-ms', $win_ms,
        $source_ips > 1 ? ('--source-ips', $source_ips) : ());

    sim_cmd('watch', (map { ('--watch',
        "ws://127.0.0.1:$port/live/$prefix$_") } @watched),
        '--watch-seconds', $duration + $o{drain} + 30, @window) if $nw;
    sim_cmd('riders', $p->rider_args, '--races', $nraces,
        '--race-prefix', $prefix, '--riders', $riders,
        '--duration', $duration, '--interval-ms', 1000,
        '--ramp-ms', $ramp_ms, '--drain-seconds', $o{drain}, @window);

    # the window: CPU and the trackers' figures at both ends
    sleep 0.05 while time * 1000 < $win_at;
    my $c0 = sample();
    my $m0 = tracker_metrics();
    my $peak = 0;
    # each tracker's batches in flight: samples, and those with all
    my (%samples, %full);
    while (time * 1000 < $win_at + $win_ms) {
        my $rss = workers_rss();
        $peak = $rss if $rss > $peak;
        my $m = tracker_metrics();
        for my $name (@TRACKERS) {
            my $n = $m->{$name}{inflight};
            next unless defined $n;
            $samples{$name}++;
            $full{$name}++ if $n >= $store_batches;
        }
        sleep 0.5;
    }
    my $c1 = sample();
    my $m1 = tracker_metrics();
    my $span = $c1->{time} - $c0->{time};

    # a process that died would leave figures that look fine
    my @died = grep { !$t->running($_) }
        @TRACKERS, qw(kafka ferretdb redis accounts nginx);
    for my $name (@died) {
        next if $dead{$name}++;
        push @fail, "$name exited during the run (see its log in "
            . 'RACE_KEEP=1\'s folder)';
    }

    my $r = $p->sim_wait('riders', $duration + $o{drain} + 20);
    my $acked = $r->{acked} || 0;
    $acked_total += $acked;

    # the drain: every sent fix acked (race-sim), then stored
    my $stored = 0;
    my $stored_at;
    my $end = time + $o{drain};
    while (time < $end) {
        $stored = $p->mongo_count;
        if ($stored =~ /^\d+$/ && $stored >= $acked_total) {
            $stored_at = time;
            last;
        }
        sleep 0.2;
    }
    my $w = $nw ? $p->sim_wait('watch', 0.1) : {};

    my $rw = $r->{window} || {};
    my $ww = $w->{window} || {};
    my $acks_s = ($rw->{acked} || 0) / $secs;
    my $sent_s = ($rw->{sent} || 0) / $secs;
    my @alerts = nginx_alerts($log_from);
    $log_pos = -s $errlog || 0;
    my $reconnects = ($r->{reconnects} || 0) + ($w->{watch_reconnects} || 0);

    my %st = (races => $nraces, phones => $phones, r => $r, w => $w,
        acks_s => $acks_s, sent_s => $sent_s, span => $span, c0 => $c0,
        c1 => $c1, m0 => $m0, m1 => $m1, peak => $peak, stored => $stored,
        stored_at => $stored_at, alerts => \@alerts,
        reconnects => $reconnects);

    printf "ingest: %d races x %d riders at 1 Hz (%d phones), %d "
        . "spectators; warm-up %d s, window %d s\n", $nraces, $riders,
        $phones, $nw, $o{warmup}, $secs;
    printf "  window: fixes sent %d (%.1f/s), acks received %d "
        . "(%.1f/s)\n", $rw->{sent} || 0, $sent_s, $rw->{acked} || 0,
        $acks_s;
    printf "  ack latency ms p50/p99/max: %s in the window (%d acks)\n",
        fmt_ms($rw->{ack_ms}), ($rw->{ack_ms} || {})->{count} || 0;
    printf "  fix-to-spectator ms p50/p99/max: %s in the window "
        . "(%d new states)\n", fmt_ms($ww->{fix_ms}), $ww->{states} || 0;
    print "  per second: s sent acked ack_p99 | states fix_p50/p99/max\n";
    my @ws = @{$ww->{seconds} || []};
    my @rs = @{$rw->{seconds} || []};
    for my $i (0 .. $#rs) {
        my ($a, $b) = ($rs[$i], $ws[$i] || {});
        printf "    %3d %6d %6d %7.1f | %6d %s\n", $i, $a->{sent},
            $a->{acked}, ($a->{ack_ms} || {})->{p99} || 0,
            $b->{states} || 0, fmt_ms($b->{fix_ms});
    }
    printf "  run: fixes sent %d, acked %d, unacked %d; reconnects: "
        . "phones %d, spectators %d\n", $r->{sent} || 0, $acked,
        $r->{unacked} || 0, $r->{reconnects} || 0,
        $w->{watch_reconnects} || 0;
    my $send_end = ($r->{last_fix_at} || 0) / 1000;
    printf "  drain after the last fix: acked in %s, stored in MongoDB "
        . "in %s (%s stored in all)\n",
        $r->{unacked} || !$r->{last_ack_at} ? 'NEVER'
            : sprintf('%.2f s', $r->{last_ack_at} / 1000 - $send_end),
        defined $stored_at && $send_end
            ? sprintf('%.2f s', $stored_at - $send_end) : 'NOT within '
            . "$o{drain} s", $stored;

    # CPU over the window, idle rate taken out
    my $winfixes = $rw->{acked} || 0;
    print "  CPU over the window: % of a core, CPU-us per fix acked\n";
    my @procs = sort keys %{$c1->{proc}};
    for my $name (@procs) {
        next unless defined $c0->{proc}{$name};
        my $used = $c1->{proc}{$name} - $c0->{proc}{$name};
        my $net = $used - ($idle_proc{$name} // 0) * $span;
        $net = 0 if $net < 0;
        $st{proc_pct}{$name} = 100 * $used / $span;
        printf "    %-16s %6.1f %%  %8.1f us/fix\n", $name,
            100 * $used / $span, $winfixes ? 1e6 * $net / $winfixes : 0;
    }
    for my $c (@COMPONENTS) {
        my $used = $c1->{$c} - $c0->{$c} - $idle{$c} * $span;
        $used = 0 if $used < 0;
        $st{cpu_per_fix}{$c} = $winfixes ? $used / $winfixes : undef;
    }

    # the trackers: fixes/s each stored, and the consumer lag; how they
    # waited on MongoDB: every batch in flight (their backpressure), the
    # writes' time, the writers' busy share, the writes retried
    my ($full_min, $writes_all, $write_s_all, $retries_all) = (1, 0, 0, 0);
    for my $name (@TRACKERS) {
        my ($a, $b) = ($m0->{$name}, $m1->{$name});
        printf "  %s: %s fixes/s stored, consumer lag %d -> %d over "
            . "%d partition(s)\n", $name,
            defined $a->{stored} && defined $b->{stored}
                ? sprintf('%.1f', ($b->{stored} - $a->{stored}) / $span)
                : '?', $a->{lag}, $b->{lag}, $b->{partitions};
        my $writes = $b->{writes} - $a->{writes};
        my $write_s = $b->{write_s} - $a->{write_s};
        my $retries = $b->{retries} - $a->{retries};
        my $full = $samples{$name} ? ($full{$name} || 0) / $samples{$name}
            : 0;
        $full_min = $full if $full < $full_min;
        $writes_all += $writes;
        $write_s_all += $write_s;
        $retries_all += $retries;
        my $batches = $b->{batches} - $a->{batches};
        printf "  %s: all %d batches in flight %.0f %% of the window; "
            . "MongoDB writes %d, %.1f ms each, writers busy %.0f %%, "
            . "retried %d\n", $name, $store_batches, 100 * $full, $writes,
            $writes ? 1000 * $write_s / $writes : 0,
            100 * $write_s / ($span * $store_writers), $retries;
        printf "  %s: %d batches done, %.1f fixes each\n", $name, $batches,
            $batches ? ($b->{batch_fixes} - $a->{batch_fixes}) / $batches
            : 0;
    }
    $st{store} = { full => @TRACKERS ? $full_min : 0,
        write_ms => $writes_all ? 1000 * $write_s_all / $writes_all : 0,
        busy => $write_s_all / ($span * $store_writers * @TRACKERS),
        retries => $retries_all };

    # held: acked what was sent, the spectators' lag flat, the
    # consumers' lag not growing, no alert, no reconnect storm
    my @why = map { "$_ exited" } @died;
    my $bound = defined $o{max_reconnects} ? $o{max_reconnects}
        : int(($phones + $nw) / 1000);
    push @why, sprintf('nginx logged %d alert(s)', scalar @alerts)
        if @alerts;
    push @why, "reconnects $reconnects > $bound" if $reconnects > $bound;
    push @why, sprintf('acks %.1f/s below sent %.1f/s', $acks_s, $sent_s)
        if $acks_s < 0.98 * $sent_s;
    my @p50 = map { ($_->{fix_ms} || {})->{p50} } grep { $_->{fix_ms} } @ws;
    if ($nw && !@p50) {
        push @why, 'the spectators got no new state';
    } elsif (@p50 >= 3) {
        my $third = int(@p50 / 3) || 1;
        my ($first) = pct(@p50[0 .. $third - 1]);
        my ($last) = pct(@p50[-$third .. -1]);
        $st{p50_first} = $first;
        $st{p50_last} = $last;
        push @why, sprintf('fix-to-spectator p50 growing, %.0f -> %.0f ms',
            $first, $last) if $last > $first + $TICK_MS;
    }
    my ($lag0, $lag1) = (sum_of($m0, 'lag'), sum_of($m1, 'lag'));
    $st{lag_growing} = $lag1 > $lag0 + $sent_s;
    push @why, "consumer lag growing, $lag0 -> $lag1"
        if $st{lag_growing};
    $st{why} = \@why;
    printf "  %s\n", @why ? 'NOT held: ' . join('; ', @why) : 'held';
    if (@alerts) {
        my %seen;
        my @first = grep { !$seen{s/^\S+ \S+ //r =~ s/\d+/N/gr}++ } @alerts;
        print "  nginx: $_" for @first[0 .. ($#first < 2 ? $#first : 2)];
    }
    return \%st;
}

# what saturated first: a process at ~100 % of a core, or the lag
sub saturated {
    my ($st) = @_;
    my ($top) = sort { $st->{proc_pct}{$b} <=> $st->{proc_pct}{$a} }
        keys %{$st->{proc_pct} || {}};
    my $total = 0;
    $total += $st->{proc_pct}{$_} for keys %{$st->{proc_pct} || {}};
    # race-sim is one thread too: at a full core it is the limit
    return sprintf('%s at %.0f %% of a core%s', $top,
        $st->{proc_pct}{$top}, $top =~ /^sim-/
            ? ' (the load generator, not the pipeline)' : '')
        if $top && $st->{proc_pct}{$top} >= 85;
    # the trackers' backpressure: every batch in flight, waiting on it;
    # with every core taken, the storage waits for a core like the rest
    my $s = $st->{store};
    my $machine = sprintf('the machine: its processes took %.0f %% of %d '
        . 'cores', $total, $ncpu);
    if ($st->{lag_growing} && $s && $s->{full} >= 0.5) {
        my $store = sprintf('every race-tracker had all %d batches in '
            . 'flight %.0f %% of the window or more; %s', $store_batches,
            100 * $s->{full}, $s->{retries}
            ? "its writes failed and were retried $s->{retries} times"
            : sprintf('a write took %.1f ms, its %d writer(s) busy %.0f %%',
                $s->{write_ms}, $store_writers, 100 * $s->{busy}));
        return "$machine (the consumer lag grows and $store)"
            if $total >= 85 * $ncpu;
        return 'the storage (MongoDB; FerretDB here): the consumer lag '
            . "grows while $store";
    }
    return 'the consumers: their lag grows' if $st->{lag_growing};
    return $machine if $total >= 85 * $ncpu;
    return sprintf('no process at a full core (the busiest: %s at %.0f %%)',
        $top // '?', $top ? $st->{proc_pct}{$top} : 0);
}

# 50,000 fixes/s on paper: each component's CPU per fix, in cores
sub on_paper {
    my ($st) = @_;
    my $goal = 50000;
    print "  50,000 fixes/s on paper, from this run's CPU per fix:\n";
    for my $c (@COMPONENTS) {
        my $per = $st->{cpu_per_fix}{$c};
        next unless defined $per;
        my $cores = $per * $goal;
        my $more = $c eq 'tracker'
            ? sprintf(', %d race-tracker(s) at 70 %% of a core and as many '
                . 'partitions', POSIX::ceil($cores / 0.7) || 1)
            : $c eq 'nginx'
            ? sprintf(', %d worker(s) at 70 %%', POSIX::ceil($cores / 0.7) || 1)
            : '';
        printf "    %-8s %6.2f cores%s\n", $c, $cores, $more;
    }
}

# a reconnect storm fails the bench, but in a ramp it is what an
# overloaded step does, and ends the ramp; an alert (checked at the end,
# over the whole log) always fails it
sub fail_of {
    my ($st, $storm) = @_;
    push @fail, "the phones and spectators reconnected $st->{reconnects} "
        . "times: a reconnect storm" if $storm
            && grep { /^reconnects/ } @{$st->{why}};
}

my ($r, $st);
if ($o{ramp}) {
    my ($held, @steps);
    for (my ($k, $n) = (1, $races); $n <= $o{ramp_max};
        $k++, $n += $o{ramp_step})
    {
        my $s = step($n, "k${k}r");
        push @steps, $s;
        fail_of($s, 0);
        last if @{$s->{why}};
        $held = $s;
    }
    print "ramp:\n";
    for my $s (@steps) {
        printf "  %5d x %d: sent %8.1f/s acked %8.1f/s fix p50 %s -> %s "
            . "ms: %s\n", $s->{races}, $riders, $s->{sent_s}, $s->{acks_s},
            map({ defined $_ ? sprintf('%.0f', $_) : '?' }
                @$s{qw(p50_first p50_last)}),
            @{$s->{why}} ? 'NOT held' : 'held';
    }
    printf "  highest held: %s\n", $held ? sprintf('%.0f fixes/s (%d x %d)',
        $held->{acks_s}, $held->{races}, $riders) : 'none';
    if (@{$steps[-1]{why}}) {
        printf "  saturated first: %s\n", saturated($steps[-1]);
    } else {
        print $capped
            ? "  the last step still held: the open files limit, not the"
              . " pipeline, ended the ramp (a lower bound)\n"
            : "  the last step (--ramp-max) still held\n";
    }
    $st = $held || $steps[-1];
    on_paper($st);

} else {
    $st = step($races, 'r');
    printf "  saturated first: %s\n", saturated($st) if @{$st->{why}};
    on_paper($st);
    fail_of($st, 1);
}

$r = $st->{r};
my $acked = $st->{r}{window}{acked} || 0;
my $stored = $st->{stored};
printf "  nginx workers' RSS: %.1f MB idle, %.1f MB peak\n",
    $rss0 / 1024, $st->{peak} / 1024;

capacity_line('pipeline.races', $st->{races}, 'races');
capacity_line('pipeline.riders_per_race', $riders, 'riders');
capacity_line('pipeline.fix_interval', 1, 's');
capacity_line('pipeline.seconds', $secs, 's');
capacity_line('pipeline.fixes_acked', $acked, 'fixes');
capacity_line('pipeline.fixes_stored', $stored =~ /^\d+$/ ? $stored : undef,
    'fixes');
capacity_line('pipeline.acks_per_s', $st->{acks_s}, 'fixes/s', '%.1f');
capacity_line('pipeline.ack_latency_p99',
    ($r->{window}{ack_ms} || {})->{p99} || 0, 'ms', '%.1f');

my $total = 0;
for my $c (@COMPONENTS) {
    my $per = $st->{cpu_per_fix}{$c};
    $total += $per || 0;
    capacity_line("cpu_per_fix.$c", $per, 's/fix');
    capacity_line("cpu_idle.$c", $idle{$c}, 'cores');
}
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
    capacity_line('kafka.fixes_per_message', $acked_total / $kmsgs, 'fixes',
        '%.3f');
    capacity_line('kafka.busiest_partition_messages_per_s',
        $busy->{msgs} / $send_secs, 'messages/s', '%.1f');
    capacity_line('kafka.busiest_partition_bytes_per_s',
        $busy->{bytes} / $send_secs, 'bytes/s', '%.0f');
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

# whenever nginx logged them, from its start to now: before it is
# stopped, which is no part of what is measured
my @alerts = nginx_alerts(0);
unshift @fail, sprintf('nginx logged %d [alert]/[emerg] line(s), e.g.: %s',
    scalar @alerts, $alerts[0] =~ s/\s+$//r) if @alerts;

$t->stop_nginx;
$t->stop_all;

if (@fail) {
    print "FAIL: $_\n" for @fail;
    exit 1;
}

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
    capacity_line('spectators.tick_ms', $TICK_MS, 'ms');
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
