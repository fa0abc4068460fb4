#!/usr/bin/perl

# The spectators' fan-out benchmark, ours beside Nchan's in the same
# run (./build.sh bench live).  Real Redis, our nginx with race_live,
# and a second nginx with Debian's Nchan module (its default memory
# store: what a user who picks Nchan gets without a Redis of its own),
# 2 worker processes each, on loopback.  The same client,
# t/bench/live_bench.c, opens the spectators and publishes the same
# ~2.5 KB tick of 50 riders to both: on Redis as race-tracker does for
# ours, by POST to Nchan's publisher location for Nchan.
#
#   t/bench/live.pl [--quick] [--seconds S] [--only a,b,c,d]
#                   [--servers ours,nchan] [--clean-p99-ms MS]
#                   [--rates R1,R2,...] [--budget SECONDS] [--dir DIR]
#
# Scenarios, each on servers started afresh:
#   (d) idle memory: 10,000 spectators connected, no ticks: the nginx
#       workers' RSS growth per spectator
#   (a) 10 races x 100 spectators   (b) 100 races x 100 spectators
#   (c) 1 race x 10,000 spectators
# a, b and c at rising tick rates per race until saturation: a step
# where a spectator misses a rider's final state, a p99 over 1 s, or
# delivered frames/s that stop rising.
#
# Ours merges the ticks of a race that come in one turn of its event
# loop into one frame with each rider's latest state, so past capacity
# its spectators get fewer frames, each with the latest state; Nchan
# delivers every message or drops it.  The client therefore reads the
# sequence and the send time from the riders' states (a frame's seq is
# its riders' highest) and counts, per spectator: frames, ticks covered
# (how far the frames move its seq), merged (ticks never delivered as a
# frame of their own but whose every rider a later frame superseded;
# with every tick carrying every rider, a message Nchan drops and the
# next one delivers counts there too), lost (neither), and whether
# every rider ends at the last tick's state.  The table compares what a
# spectator needs: per scenario and server, the clean delivered frames/s
# (the best step in which every spectator got every rider's final
# state, nothing was lost or closed, and the p99 was under
# --clean-p99-ms), the peak frames/s and ticks covered/s, p50/p99 (of
# each frame's newest state, from its send) and CPU at a reference
# rate, p50/p99 and the nginx workers' CPU-us per frame delivered at the
# highest rate where both ran clean (the servers' own cost, apart from
# the client's), KB per idle spectator, and the ratio ours/Nchan.  Every command
# it runs is printed ("$ ..."); each step prints the client's key=value
# line.
#
# Prints figures, asserts nothing (t/bench_live.t runs it --quick and
# checks what the spectators received).  Bounded: every client run has
# a deadline, and past --budget seconds the remaining runs are skipped.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";

use File::Path qw(make_path);
use Getopt::Long qw(GetOptions);
use IO::Select;
use POSIX ();
use Time::HiRes qw(time sleep);
use Race::Test;

my $NCHAN = $ENV{RACE_NCHAN_MODULE}
    || '/usr/lib/nginx/modules/ngx_nchan_module.so';

my %o = (seconds => 3, only => 'd,a,b,c', servers => 'ours,nchan',
    clean_p99_ms => 100, stop_p99_ms => 1000, budget => 600);

GetOptions(\%o, 'quick', 'seconds=f', 'only=s', 'servers=s', 'rates=s',
    'clean-p99-ms=f' => \$o{clean_p99_ms}, 'budget=f', 'dir=s',
    'stop-p99-ms=f' => \$o{stop_p99_ms})
    or die "usage: t/bench/live.pl [--quick] [--seconds S] [--only a,b,c,d]"
        . " [--servers ours,nchan] [--clean-p99-ms MS] [--rates R1,R2,...]"
        . " [--budget S] [--dir DIR]\n";

# the scenarios: races, spectators per race, tick rates per race, the
# rate whose latency the table shows
my %SCEN = (
    a => { races => 10, spectators => 100, ref => 100,
           rates => [10, 25, 50, 100, 150, 200, 300, 400, 600] },
    b => { races => 100, spectators => 100, ref => 10,
           rates => [2, 5, 10, 15, 20, 30, 40, 60] },
    c => { races => 1, spectators => 10000, ref => 10,
           rates => [2, 5, 10, 20, 30, 50, 75, 100, 150] },
    d => { races => 10, spectators => 1000, idle => 3 },
);

if ($o{quick}) {
    # a few spectators, a second a step: proves it works end to end.
    # At 100 ticks/s a race, ours may merge ticks (under the sanitizers
    # it does): the counting of merged frames is run too.
    my @r = (5, 10, 100);
    %SCEN = (
        a => { races => 2, spectators => 5, ref => 5, rates => [@r] },
        b => { races => 4, spectators => 3, ref => 5, rates => [@r] },
        c => { races => 1, spectators => 20, ref => 5, rates => [@r] },
        d => { races => 2, spectators => 10, idle => 1 },
    );
    $o{seconds} = 1 unless grep { /^--seconds/ } @ARGV;
}

# rates of the caller's, for every scenario run
if ($o{rates}) {
    my @r = grep { /^[\d.]+$/ && $_ > 0 } split /,/, $o{rates};
    die "--rates: numbers, comma-separated\n" unless @r;
    for my $sc (grep { $_->{rates} } values %SCEN) {
        $sc->{rates} = [@r];
        $sc->{ref} = $r[0];
    }
}

my @SCENARIOS = grep { $SCEN{$_} } split /,/, $o{only};
my @SERVERS = grep { /^(ours|nchan)$/ } split /,/, $o{servers};

my $t = Race::Test->new($o{dir} ? (dir => $o{dir}) : ());
my $dir = $t->dir;
my $build = $t->build;
my $client = "$build/t/live_bench";
my $start = time;

-x $client or die "$client missing (./build.sh bench live builds it)\n";
-e $t->module or die $t->module . " missing (./build.sh bench live)\n"
    if grep { $_ eq 'ours' } @SERVERS;
-e $NCHAN or die "$NCHAN missing: apt-get install libnginx-mod-nchan\n"
    if grep { $_ eq 'nchan' } @SERVERS;

# the descriptors a worker may have: all its spectators could land on
# one worker
my $hard = `sh -c 'ulimit -Hn'`;
chomp $hard;
$hard = 65536 if $hard !~ /^\d+$/ || $hard > 65536;
my $nofile = $hard;
my $wconns = $nofile - 64;

sub cpuinfo {
    open my $fh, '<', '/proc/cpuinfo' or return '?';
    while (<$fh>) {
        return $1 if /^model name\s*:\s*(.+?)\s*$/;
    }
    return '?';
}

sub loadavg {
    open my $fh, '<', '/proc/loadavg' or return '?';
    my @l = split ' ', <$fh>;
    return "@l[0 .. 2]";
}

printf "# %s, %d cores (%s), load average %s at start\n",
    POSIX::strftime('%Y-%m-%d %H:%M:%S UTC', gmtime), `nproc` + 0, cpuinfo(),
    loadavg();
print "# the machine's cores are shared with whatever else runs on it,\n"
    . "# the client and the publisher included: figures are this run's\n";
print "# worker_rlimit_nofile $nofile, worker_connections $wconns;"
    . " Nchan: $NCHAN, memory store\n";

# a command as it is shown: the run's folder and ports named, not given
sub show {
    my (@argv) = @_;
    my $cmd = join ' ', map { /[\s{}]/ ? "'$_'" : $_ } @argv;
    $cmd =~ s/\Q$dir\E/\$DIR/g;
    $cmd =~ s/\Q$build\E/\$BUILD/g;
    print "\$ $cmd\n";
}

my $redis = $t->redis;
my ($rport) = $redis =~ /:(\d+)$/;
show('redis-server', '--bind', '127.0.0.1', '--port', $rport, '--save', "''",
    '--appendonly', 'no');

# nginx.conf for one server: NAME's folder, module, port, http-level
# lines, locations
sub conf {
    my ($name, $module, $port, $main, $http) = @_;

    my $d = "$dir/$name";
    make_path($d);
    my $user = $> == 0 ? "user root root;\n" : '';

    my $conf = <<"EOF";
load_module $module;
$user
daemon off;
master_process on;
worker_processes 2;
worker_rlimit_nofile $nofile;
error_log $d/error.log warn;
pid $d/nginx.pid;

events {
    worker_connections $wconns;
}

http {
$main    access_log off;
    client_body_temp_path $d/client_body_temp;
    proxy_temp_path $d/proxy_temp;
    fastcgi_temp_path $d/fastcgi_temp;
    uwsgi_temp_path $d/uwsgi_temp;
    scgi_temp_path $d/scgi_temp;

    server {
        listen 127.0.0.1:$port backlog=4096;
$http
    }
}
EOF

    return $t->write_file("$name/nginx.conf", $conf);
}

my %PORT;

sub start_servers {
    for my $name (@SERVERS) {
        my $port = $PORT{$name} = $t->port;
        my $conf;

        if ($name eq 'ours') {
            $conf = conf($name, $t->module, $port,
                "    race_redis $redis;\n", <<"EOF");
        location /live/ {
            race_live;
        }
EOF

        } else {
            # the publisher's keep-alive connections carry every tick:
            # not closed after nginx's default of 1,000 requests
            $conf = conf($name, $NCHAN, $port,
                "    keepalive_requests 100000000;\n", <<'EOF');
        location ~ ^/live/([A-Za-z0-9_-]+)$ {
            nchan_subscriber websocket;
            nchan_channel_id $1;
        }

        location ~ ^/pub/([A-Za-z0-9_-]+)$ {
            nchan_publisher;
            nchan_channel_id $1;
        }
EOF
        }

        my $argv = ['/usr/sbin/nginx', '-p', "$dir/$name/", '-c', $conf,
            '-e', "$dir/$name/error.log"];
        show(@$argv);

        $t->log_file("$dir/$name/error.log");
        $t->spawn(name => $name, log => "$dir/$name.out", argv => $argv,
            env => $name eq 'ours' ? $t->san_env($name) : {});

        $t->wait_port($port, 15)
            or die "$name did not listen on $port:\n"
                . $t->read_file("$name/error.log")
                . $t->read_file("$name.out");
    }

    # both workers up, so that their PIDs are known
    for my $name (@SERVERS) {
        my $end = time + 15;
        sleep 0.05 while workers($name) < 2 && time < $end;
    }
}

sub stop_servers {
    $t->stop($_, signal => 'QUIT', grace => 15) for @SERVERS;
}

sub workers {
    my ($name) = @_;
    my $master = $t->pid($name) or return ();
    return split ' ', `pgrep -P $master`;
}

# runs the client, echoes and parses its lines; a deadline beyond the
# one of its own kills it
sub client {
    my ($secs, @args) = @_;

    my @argv = ($client, @args);
    show(@argv);

    my $pid = open(my $fh, '-|', @argv) or die "$client: $!\n";
    my $sel = IO::Select->new($fh);
    my $end = time + $secs;
    my @lines;
    my $buf = '';

    while (1) {
        my $left = $end - time;
        if ($left <= 0) {
            print "# the client ran past ${secs}s: stopped\n";
            kill 'TERM', $pid;
            last;
        }
        next unless $sel->can_read($left > 1 ? 1 : $left);
        my $n = sysread($fh, $buf, 65536, length $buf);
        last unless $n;
        while ($buf =~ s/^([^\n]*)\n//) {
            print "  $1\n";
            push @lines, $1;
        }
    }

    close $fh;
    my $status = $? >> 8;
    print "# the client exited with $status\n" if $status;

    my @recs;
    for (@lines) {
        my ($kind, $rest) = /^(\w+) (.*)$/ or next;
        my %kv = $rest =~ /(\w+)=(\S+)/g;
        push @recs, { kind => $kind, %kv };
    }

    return @recs;
}

my %R;     # scenario => server => { steps => [...], idle => {...} }
my $stop_p99 = $o{stop_p99_ms};

for my $s (@SCENARIOS) {
    my $sc = $SCEN{$s};

    if (time - $start > $o{budget}) {
        print "# scenario $s skipped: past the budget of $o{budget}s\n";
        next;
    }

    printf "\n# scenario %s: %d races x %d spectators%s\n", $s, $sc->{races},
        $sc->{spectators}, $sc->{idle} ? ", idle $sc->{idle}s"
            : ", ticks/s per race " . join(',', @{$sc->{rates}});

    start_servers();

    for my $name (@SERVERS) {
        my @w = workers($name);
        my @args = ('--label', "$s/$name",
            '--url', "ws://127.0.0.1:$PORT{$name}/live/{race}",
            '--races', $sc->{races}, '--spectators', $sc->{spectators},
            '--prefix', "$s${name}r", '--rss', join(',', @w),
            '--cpu', 'nginx=' . join(',', @w));

        push @args, $name eq 'ours'
            ? ('--redis', "127.0.0.1:$rport", '--cpu',
               'redis=' . $t->pid('redis'))
            : ('--pub-url', "http://127.0.0.1:$PORT{$name}/pub/{race}",
               '--ready-on-upgrade');

        my $conns = $sc->{races} * $sc->{spectators};
        my $connect = 30 + $conns / 200;
        push @args, '--connect-timeout', $connect;

        my ($drain, $deadline);

        if ($sc->{idle}) {
            push @args, '--idle', $sc->{idle};
            $deadline = $connect + $sc->{idle} + 30;

        } else {
            # a drain long enough to tell a p99 of over a second
            $drain = $o{quick} ? 10 : 2;
            push @args, '--rates', join(',', @{$sc->{rates}}),
                '--seconds', $o{seconds}, '--drain', $drain,
                '--stop-p99-ms', $stop_p99;
            $deadline = $connect + 30
                + @{$sc->{rates}} * ($o{seconds} + $drain + 10);
        }

        for my $r (client($deadline, @args)) {
            if ($r->{kind} eq 'step') {
                push @{$R{$s}{$name}{steps}}, $r;
                # one thread reads every spectator: say when it is full
                print "# $s/$name at $r->{rate}/s: the client's thread"
                    . " was busy $r->{cpu_client}% of the step, it may be"
                    . " what limits\n" if $r->{cpu_client} >= 90;
            } elsif ($r->{kind} eq 'idle') {
                $R{$s}{$name}{idle} = $r;
            } elsif ($r->{kind} eq 'connected') {
                $R{$s}{$name}{connected} = $r;
            }
        }
    }

    stop_servers();
}

# the table

sub is_clean {
    my ($st) = @_;
    return !($st->{lost} > 0 || $st->{final_missing} > 0
        || $st->{closed} > 0 || $st->{p99_ms} > $o{clean_p99_ms});
}

sub clean {
    my ($steps) = @_;
    my $best;
    for my $st (@{$steps || []}) {
        next unless is_clean($st);
        $best = $st->{frames_per_s}
            if !defined $best || $st->{frames_per_s} > $best;
    }
    return $best;
}

sub at_rate {
    my ($steps, $rate, $key) = @_;
    my ($st) = grep { $_->{rate} == $rate } @{$steps || []};
    return $st ? $st->{$key} : undef;
}

sub peak {
    my ($steps, $key) = @_;
    my $best;
    for my $st (@{$steps || []}) {
        $best = $st->{$key} if !defined $best || $st->{$key} > $best;
    }
    return $best;
}

my @rows;

for my $s (@SCENARIOS) {
    my $sc = $SCEN{$s};
    my $what = "$s $sc->{races}x$sc->{spectators}";

    if ($sc->{idle}) {
        push @rows, ["$what KB per idle spectator", map {
            my $i = $R{$s}{$_}{idle};
            $i ? $i->{kb_per_spectator} : undef } @SERVERS];
        next;
    }

    my %st = map { ($_ => $R{$s}{$_}{steps}) } @SERVERS;
    my ($cmp, $cmp_clean) = both_clean(\%st);
    my $cmp_what = $cmp_clean ? 'both clean' : 'lowest rate';
    $cmp_what = 'clean' if $cmp_clean && @SERVERS == 1;
    push @rows,
        ["$what clean frames/s (p99<$o{clean_p99_ms}ms)",
            map { clean($st{$_}) } @SERVERS],
        ["$what peak frames/s",
            map { peak($st{$_}, 'frames_per_s') } @SERVERS],
        ["$what peak ticks covered/s",
            map { peak($st{$_}, 'covered_per_s') } @SERVERS],
        ["$what p50 ms at $sc->{ref}/s",
            map { at_rate($st{$_}, $sc->{ref}, 'p50_ms') } @SERVERS],
        ["$what p99 ms at $sc->{ref}/s",
            map { at_rate($st{$_}, $sc->{ref}, 'p99_ms') } @SERVERS],
        ["$what nginx CPU % at $sc->{ref}/s",
            map { at_rate($st{$_}, $sc->{ref}, 'cpu_nginx') } @SERVERS];
    next unless defined $cmp;
    # the rate is a row of its own: the labels, keys for scripts, stay
    push @rows,
        ["$what $cmp_what: ticks/s", map { $cmp } @SERVERS],
        ["$what $cmp_what: p50 ms",
            map { at_rate($st{$_}, $cmp, 'p50_ms') } @SERVERS],
        ["$what $cmp_what: p99 ms",
            map { at_rate($st{$_}, $cmp, 'p99_ms') } @SERVERS],
        ["$what $cmp_what: nginx CPU-us/frame",
            map { us_per_frame($st{$_}, $cmp) } @SERVERS];
}

# the highest rate at which every server ran clean, else the lowest
# rate all ran (and 0): where the servers' own costs compare, below
# saturation
sub both_clean {
    my ($st) = @_;
    my (%clean, %ran);
    for my $srv (@SERVERS) {
        for my $step (@{$st->{$srv} || []}) {
            $ran{$step->{rate}}++;
            $clean{$step->{rate}}++ if is_clean($step);
        }
    }
    my @all = grep { $clean{$_} == @SERVERS } keys %clean;
    return ((sort { $b <=> $a } @all)[0], 1) if @all;
    my @any = grep { $ran{$_} == @SERVERS } keys %ran;
    return ((sort { $a <=> $b } @any)[0], 0);
}

# the nginx workers' CPU time per frame delivered, in microseconds: their
# CPU % is of the step's whole time (window_s, its drain included)
sub us_per_frame {
    my ($steps, $rate) = @_;
    my $cpu = at_rate($steps, $rate, 'cpu_nginx');
    my $secs = at_rate($steps, $rate, 'window_s');
    my $frames = at_rate($steps, $rate, 'frames');
    return undef unless defined $cpu && $secs && $frames;
    return $cpu / 100 * $secs * 1e6 / $frames;
}

sub fmt {
    my ($v) = @_;
    return 'NA' unless defined $v && $v =~ /^[\d.]+$/;
    return sprintf($v >= 100 ? '%.0f' : '%.2f', $v);
}

my $both = @SERVERS == 2;

printf "\n# live fan-out, 2 nginx workers each, %.0f s in all\n",
    time - $start;
print "# frames: delivered to spectators; ticks covered: how far they\n"
    . "# moved each spectator's seq (ours merges the ticks that wait into\n"
    . "# one frame of each rider's latest state; Nchan delivers each or\n"
    . "# drops it). clean: every spectator got every rider's final state,\n"
    . "# none closed, p99 under $o{clean_p99_ms} ms. Latency: of each"
    . " frame's\n# newest state, from its send. Ours also merges ticks"
    . " of a race that\n# reach Redis in a burst: its frames/s can be"
    . " lower than its ticks\n# covered/s below capacity too.\n";
printf "%-44s %12s %12s%s\n", 'scenario', @SERVERS,
    $both ? sprintf(' %12s', 'ours/nchan') : '';

for my $row (@rows) {
    my ($label, @v) = @$row;
    my $ratio = '';
    if ($both) {
        $ratio = (defined $v[0] && defined $v[1] && $v[1] > 0)
            ? sprintf(' %12.2f', $v[0] / $v[1]) : sprintf(' %12s', 'NA');
    }
    printf "%-44s %12s %12s%s\n", $label, (map { fmt($_) } @v), $ratio;
}

# the same, for scripts
for my $row (@rows) {
    my ($label, @v) = @$row;
    (my $key = $label) =~ s/[^\w.]+/_/g;
    $key =~ s/_+$//;
    print "bench_live $key ", join(' ', map {
        "$SERVERS[$_]=" . (defined $v[$_] ? $v[$_] : 'NA') } 0 .. $#v), "\n";
}

print "# logs in $dir\n" if $o{dir} || $ENV{RACE_KEEP};

$t->stop_all;
