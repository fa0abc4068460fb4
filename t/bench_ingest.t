#!/usr/bin/perl

# The ingest bench (t/bench/pipeline.pl, ./build.sh bench) at its
# smallest, end to end on the real services: 2 races x 3 riders, a 3 s
# window.  It prints its figures (rates over the window, ack and
# fix-to-spectator latency each second and in all, CPU per process,
# fixes/s per tracker, the drain, the capacity lines) and exits 0; it
# FAILS when nginx logs an alert (worker_connections made too small on
# purpose) and when the phones reconnect in a storm (nginx closes them
# after 300 ms of silence, and they send once a second); it names the
# storage as what saturated when MongoDB stalls (a stopped FerretDB).
# Asserts on what the bench prints and its exit status, never on a time.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use POSIX ();
use Test::More;
use Race::Test;

my $root = Race::Test->root;
my $N = qr/[\d.]+/;
my $PCT = qr{$N/$N/$N};

# one pattern of pieces, each of a line
sub re {
    my $s = join '', @_;
    return qr/$s/m;
}
my $t = Race::Test->new;

sub bench {
    my ($name, @args) = @_;
    my $out = $t->dir . "/$name.out";
    my $pid = fork();
    die "fork: $!\n" unless defined $pid;
    if ($pid == 0) {
        open STDIN, '<', '/dev/null';
        open STDOUT, '>', $out or POSIX::_exit(127);
        open STDERR, '>&', \*STDOUT;
        # bounded: the bench stops by itself, the alarm if it did not
        alarm 300;
        { exec 'perl', "$root/t/bench/pipeline.pl", '--warmup', 2,
            '--drain', 30, @args, 2, 3, 3; }
        POSIX::_exit(127);
    }
    waitpid $pid, 0;
    my $rc = $? >> 8;
    $t->san_output($out);
    return ($rc, $t->read_file($out));
}

my ($rc, $out) = bench('ok');
is($rc, 0, 'a small bench run exits 0') or diag($out);
like($out, re(qr/^# open files: soft \d+, hard \d+; nginx: /m,
    qr/worker_connections \d+, worker_rlimit_nofile \d+$/m),
    'the connection limits sized to the load are printed');
my ($wc) = $out =~ /worker_connections (\d+)/;
ok($wc && $wc >= 2 * 3 + 2, "worker_connections $wc covers 6 phones and "
    . '2 spectators');
like($out, qr/^\$ race-sim .*--window-at \d+ --window-ms 3000/m,
    'it prints the race-sim commands, with the window');
my ($sent, $acked, $rate) = $out =~ re(
    qr{^  window: fixes sent (\d+) \($N/s\), }m,
    qr{acks received (\d+) \(($N)/s\)$}m);
ok(defined $rate, 'rates over the window');
ok($sent && $acked, "fixes sent ($sent) and acked ($acked) in the window");
is($rate + 0, $acked / 3, 'acks/s is the acks in the window / its length');
like($out, re(qr{^  ack latency ms p50/p99/max: $PCT in the window }m,
    qr{\(\d+ acks\)$}m), 'ack latency percentiles');
like($out, re(qr{^  fix-to-spectator ms p50/p99/max: $PCT in the window }m,
    qr{\(\d+ new states\)$}m), 'fix-to-spectator latency percentiles');
my ($states) = $out =~ /\((\d+) new states\)/;
ok($states, "the spectators timed $states new rider states");
my @secs = $out =~ m{^ +(\d+) +\d+ +\d+ +$N \| +\d+ $PCT$}mg;
is_deeply(\@secs, [0, 1, 2], 'a line per second of the window');
like($out, re(qr/^  run: fixes sent \d+, acked \d+, unacked 0; reconnects:/m,
    qr/ phones 0, spectators 0$/m), 'every fix acked, no reconnect');
like($out, re(qr/^  drain after the last fix: acked in $N s, /m,
    qr/stored in MongoDB in -?$N s/m), 'the drain, apart');
for my $proc ('nginx worker 1', 'nginx worker 2', 'tracker1', 'kafka',
    'ferretdb', 'redis', 'accounts')
{
    like($out, qr{^    \Q$proc\E +[\d.]+ %  +[\d.]+ us/fix$}m,
        "CPU of $proc, % of a core and per fix");
}
like($out, qr{^  tracker1: $N fixes/s stored, consumer lag \d+ -> \d+}m,
    'fixes/s per tracker and its lag');
# held or not is a matter of time on a shared machine: only said
like($out, qr/^  (?:held|NOT held: .+)$/m, 'whether the window is held');
like($out, qr/^  50,000 fixes\/s on paper/m, 'what 50,000 fixes/s takes');
for my $key (qw(pipeline.acks_per_s pipeline.ack_latency_p99
    pipeline.fixes_acked cpu_per_fix.nginx cpu_per_fix.tracker
    cpu_per_fix.kafka cpu_per_fix.mongo cpu_per_fix.redis cpu_idle.nginx
    kafka.partitions))
{
    like($out, qr/^capacity \Q$key\E=\S+ \S/m, "capacity $key");
}
unlike($out, qr/^FAIL/m, 'no failure');

# too few connections for the load: nginx says so, the bench fails
($rc, $out) = bench('alert', '--worker-connections', 4);
isnt($rc, 0, 'worker_connections too small: the bench fails');
like($out, re(qr/^FAIL: nginx logged \d+ \[alert\]\/\[emerg\] line\(s\), /m,
    qr/e\.g\.: .*worker_connections are not enough/m),
    'naming the alert');

# a reconnect storm, without an alert
($rc, $out) = bench('storm', '--ride-conf',
    'race_ws_ping_interval 0; race_ws_idle_timeout 300ms;');
isnt($rc, 0, 'a reconnect storm: the bench fails');
like($out, re(qr/^FAIL: the phones and spectators reconnected \d+ times: /m,
    qr/a reconnect storm$/m),
    'naming the reconnects');
unlike($out, qr/^FAIL: nginx/m, 'with no alert');

# the storage stalls: race-tracker writes to a FerretDB of this test's,
# stopped (SIGSTOP) for the run, so its one batch stays in flight and
# its lag grows while no process is busy: the bench names the storage,
# not "the consumers"
my $stalled = $t->ferretdb;
my $fpid = $t->pid('ferretdb');
kill 'STOP', $fpid;
($rc, $out) = bench('storage', '--tracker-set', "mongo_uri=$stalled",
    '--tracker-set', 'store_batches=1', '--drain', 5);
kill 'CONT', $fpid;
like($out, re(qr/^  tracker1: all 1 batches in flight $N % of the window; /m,
    qr{MongoDB writes \d+, $N ms each, writers busy $N %, retried \d+$}m),
    'the tracker\'s waits on MongoDB') or diag($out);
like($out, qr/^  NOT held: .*consumer lag growing/m, 'the lag grows');
like($out, qr/^  saturated first: the storage \(MongoDB; FerretDB here\)/m,
    'the storage is named as what saturated');
$t->done;
