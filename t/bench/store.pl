#!/usr/bin/perl

# race-tracker's MongoDB writes alone: FerretDB (the tests' engine, as
# t/lib/Race/Engine/FerretDB.pm starts it) and t/bench/store_bench.c,
# the tracker's own store code inserting batches from writer threads as
# its store_writers do.  No Kafka, nginx or Redis: what the storage
# path takes, apart from the pipeline (t/bench/pipeline.pl).
#
#   t/bench/store.pl [options]
#
# Options:
#   --writers N,N...     store_writers to try (1,2,4)
#   --batch N,N...       fixes per batch (batch_max) to try (1000)
#   --seconds S          each run's length (15)
#   --races N            races of 50 riders the fixes come from (100)
#   --index              the replays' index made first, as after the
#                        tracker's first replay of a race with a course
#   --ferretdb-arg ARG   one more argument to FerretDB (repeatable)
#
# Each run writes to a database of its own (a file of its own in
# FerretDB's SQLite backend), so that no run inserts behind another's
# rows.  Per run: fixes/s, the time of a write p50/p99/max, FerretDB's
# CPU as % of a core and CPU-us per fix, and its fsync()s and
# fdatasync()s per batch (perf's syscall tracepoints, when perf can
# read them).  Every command is printed ("$ ...").

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";

use Getopt::Long;
use POSIX ();
use Time::HiRes qw(time);
use Race::Test;

my %o = (writers => '1,2,4', batch => '1000', seconds => 15, races => 100);
my @fargs;
GetOptions(\%o, 'writers=s', 'batch=s', 'seconds=i', 'races=i', 'index',
    'ferretdb-arg=s' => \@fargs)
    or die "usage: see the top of t/bench/store.pl\n";

my $HZ = POSIX::sysconf(POSIX::_SC_CLK_TCK()) || 100;

my $t = Race::Test->new;
my $bin = $t->build . '/t/store_bench';
die "$bin is missing (make -C t BUILD=... $bin)\n" unless -x $bin;

my $uri = $t->ferretdb(args => \@fargs);
my $pid = $t->pid('ferretdb');

open my $lfh, '<', '/proc/loadavg';
my $load = join ' ', (split ' ', <$lfh> // '')[0 .. 2];
printf "# %s, %d cores, load average %s at start; the cores are shared "
    . "with whatever else runs\n",
    POSIX::strftime('%Y-%m-%d %H:%M:%S UTC', gmtime), `nproc` + 0, $load;
print "\$ t/bench/store.pl @ARGV\n";
print "# FerretDB: as t/lib/Race/Engine/FerretDB.pm starts it",
    (map { " $_" } @fargs), "\n";

sub cpu_s {
    open my $fh, '<', "/proc/$pid/stat" or return 0;
    my $stat = <$fh>;
    $stat =~ s/^.*\)\s+//;
    my @f = split ' ', $stat;
    return ($f[11] + $f[12]) / $HZ;
}

# perf counts the syscalls FerretDB makes while a run goes on
my $perf = `command -v perf 2>/dev/null`;
chomp $perf;
my @EVENTS = map { "syscalls:sys_enter_$_" } qw(fsync fdatasync);

my $run = 0;
my @rows;
for my $batch (split /,/, $o{batch}) {
    for my $writers (split /,/, $o{writers}) {
        $run++;
        my $db = "bench$run";
        my @cmd = ($bin, $uri, $db, $writers, $batch, $o{seconds},
            $o{races}, 50, $o{index} ? ('index') : ());
        my $shown = "@cmd" =~ s/\Q$uri\E/\$URI/r;
        print "\$ $shown\n";

        my $perf_out = $t->dir . "/perf.$run";
        my $perf_pid;
        if ($perf) {
            $perf_pid = fork // die "fork: $!\n";
            if ($perf_pid == 0) {
                open STDOUT, '>', '/dev/null';
                open STDERR, '>', '/dev/null';
                { exec $perf, 'stat', '-x,', '-o', $perf_out,
                    (map { ('-e', $_) } @EVENTS), '-p', $pid; }
                POSIX::_exit(127);
            }
        }

        my $c0 = cpu_s();
        my $t0 = time;
        my $out = `@cmd 2>&1`;
        my $rc = $? >> 8;
        my $span = time - $t0;
        my $cpu = cpu_s() - $c0;

        if ($perf_pid) {
            kill 'INT', $perf_pid;
            waitpid $perf_pid, 0;
        }

        print map { "  $_\n" } split /\n/, $out;
        die "store_bench failed (exit $rc)\n" if $rc;

        my ($fixes) = $out =~ /^store: (\d+) fixes/m;
        my ($rate) = $out =~ /([\d.]+) fixes\/s/;
        my ($nb) = $out =~ /(\d+) batches/;
        my ($ms) = $out =~ m{write ms p50/p99/max: (\S+)};

        my %sync;
        if ($perf_pid && open my $pf, '<', $perf_out) {
            while (<$pf>) {
                my @f = split /,/;
                my ($call) = @f > 2 ? $f[2] =~ /sys_enter_(\w+)/ : ();
                next unless $call;
                $sync{$call} = $f[0] =~ /^\d+$/ ? $f[0] : undef;
            }
        }
        my $syncs = defined $sync{fsync} && defined $sync{fdatasync}
            ? $sync{fsync} + $sync{fdatasync} : undef;

        printf "  FerretDB: %.1f %% of a core, %.1f CPU-us per fix; %s\n",
            100 * $cpu / $span, $fixes ? 1e6 * $cpu / $fixes : 0,
            defined $syncs ? sprintf('fsync %d + fdatasync %d, %.2f per '
                . 'batch', $sync{fsync}, $sync{fdatasync},
                $nb ? $syncs / $nb : 0) : 'fsyncs not counted (perf)';

        push @rows, sprintf '  %7d x %d writer(s): %9.1f fixes/s, write '
            . 'ms p50/p99/max %s, FerretDB %.0f %%', $batch, $writers,
            $rate || 0, $ms || '?', 100 * $cpu / $span;
    }
}

print "store: batch x writers\n", map { "$_\n" } @rows;

$t->stop_all;
