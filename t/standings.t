#!/usr/bin/perl

# race-tracker's live standings and results (docs/INTERNALS.md, "Races"
# and "Results"): riders at known speeds on a 2 km straight course get
# ticks with their course distance, rank and time gaps close to the
# truth; a rider marked dnf on the entries ranks last, and the riders it
# passes get their new rank in the next tick without a fix of theirs;
# the state hash (the snapshot) has the standings; once the race is
# finished its results are in Redis (JSON and CSV) and MongoDB, agree
# with each other and the stored fixes, and late fixes of a dead zone
# make them be computed again.  The race keys are written here, as
# race-accounts writes them.

use strict;
use warnings;

use lib 't/lib';
use JSON::PP;
use POSIX ();
use Test::More;
use Time::HiRes qw(sleep time);
use Race::Test;
use Race::Util;
use Race::RESP;
use Race::Worker;

my $t = Race::Test->new;
my $dir = $t->dir;

my $tracker = $t->build . '/workers/race-tracker';
my $produce = $t->build . '/t/kafka_produce';
my $query = $t->build . '/t/mongo_query';

for ($tracker, $produce, $query) {
    die "no $_: build it first\n" unless -x $_;
}

my $TICK_MS = 200;
my $TOPIC = 'race.fixes';
my $DB = 'ngx_race_t';
my $json = JSON::PP->new->utf8->canonical;

my $redis = $t->redis;
my ($rport) = $redis =~ /:(\d+)$/;
my $kafka = $t->kafka;
my $mongo = $t->ferretdb;

# tolerances of the matcher and the standings, on fixes without noise
my $TOL_M = 30;     # course distance, metres
my $TOL_S = 3;      # gaps and finish times, seconds

# argv run to its end with stdin from a string: (exit code, output)
sub run { run_tool($t, $_[0], stdin => $_[1]) }

my $log = "$dir/tracker.log";
$t->log_file($log);

my @argv = ($tracker, tracker_args(
    kafka_brokers => $kafka,
    kafka_topic => $TOPIC,
    kafka_instance_id => 'none',
    mongo_uri => $mongo,
    mongo_db => $DB,
    redis_port => $rport,
    tick_ms => $TICK_MS,
));

$t->spawn(name => 'tracker', log => $log, argv => [@argv],
    env => $t->san_env('tracker'));

sub redis { resp_command($rport, @_) }

sub state { rider_state($rport, @_) }

sub log_lines { log_grep($t, $log, @_) }

###############################################################################
# the course: 2 km due north, a checkpoint at 1000 m

my $RACE = 'st1';
my $M_PER_DEG = 6371008.8 * 3.14159265358979 / 180;
my $LEN = 0.018 * $M_PER_DEG;
my $T0 = now_ms() - 3_600_000;

my $COURSE = { laps => 1, points => [[45, 7.5], [45.009, 7.5],
    [45.018, 7.5]], checkpoints => [{ name => 'Half', dist_m => 1000 }] };

my %SPEED = (a1 => 10, b2 => 8, c3 => 9);    # m/s

sub race_keys {
    my (%o) = @_;
    my $status = $o{status} || 'live';
    my $fin = $status eq 'finished' ? $T0 + 241_000 : undef;

    my $doc = { _id => $RACE, name => 'Straight', owner => 'u1',
        public => JSON::PP::true, status => $status, start_at => $T0,
        started_at => $T0, finished_at => $fin, rev => $o{rev} || 1,
        riders => [
            { id => 'a1', name => 'Ann', bib => '1', status => 'entered' },
            { id => 'b2', name => 'Bob', bib => '2', status => 'entered' },
            { id => 'c3', name => 'Cy', bib => '3',
                status => $o{c3} || 'entered' },
        ] };
    redis('SET', "race:race:$RACE", $json->encode($doc));
    redis('HSET', "race:race:$RACE:meta", status => $status, public => 1,
        owner => 'u1', start_at => $T0, finished_at => $fin // 0);
    redis('SET', "race:race:$RACE:course", $json->encode($COURSE));
}

# the fix of rider at second s: on the course at its speed, then at the
# line once there
sub fix {
    my ($rider, $s) = @_;
    my $d = $SPEED{$rider} * $s;
    $d = $LEN if $d > $LEN;
    return { seq => $s + 1, t => $T0 + $s * 1000,
        lat => 0 + sprintf('%.7f', 45 + $d / $M_PER_DEG), lon => 7.5 };
}

sub produce {
    my ($rider, @secs) = @_;
    my $lines = '';

    # at most RACE_FIX_BATCH_MAX fixes a message
    while (my @part = splice(@secs, 0, 100)) {
        my @fixes = map { fix($rider, $_) } @part;
        $lines .= "$RACE\t" . $json->encode({ race => $RACE,
            rider => $rider, recv => $fixes[-1]{t} + 150,
            fixes => \@fixes }) . "\n";
    }

    my ($rc, $out) = run([$produce, $kafka, $TOPIC], $lines);
    is($rc, 0, "produced the fixes of $rider") or diag($out);
}

sub count {
    my ($filter) = @_;
    my ($rc, $out) = run([$query, $mongo, $DB, 'fixes', 'count',
        $json->encode($filter)]);
    return $rc == 0 && $out =~ /^(\d+)$/m ? $1 : -1;
}

# the live channel, subscribed before anything is produced
my $sub = resp_conn($rport);
resp_send($sub, 'SUBSCRIBE', "race:$RACE:live");
my $r = resp_read($sub, time + 5);
die "subscribe failed\n" unless ref $r && $r->[0] eq 'subscribe';

# the newest state of each rider in the ticks within secs, or until
# $until says the ones so far are enough
my %ticked;
sub ticks {
    my ($secs, $until) = @_;
    my $end = time + $secs;
    while (time < $end) {
        while (length $sub->{buf} || resp_fill($sub, $end)) {
            my $m = eval { resp_read($sub, time + 5) };
            last unless $m;
            next unless $m->[0] eq 'message';
            my $tick = eval { $json->decode($m->[2]) } or next;
            $ticked{$_->{rider}} = $_ for @{$tick->{riders} || []};
            return 1 if $until && $until->();
        }
    }
    return $until ? $until->() : 1;
}

sub near {
    my ($got, $want, $tol, $name) = @_;
    ok(defined $got && abs($got - $want) <= $tol, $name)
        or diag('got ' . ($got // 'undef') . ", want $want");
}

###############################################################################
# live: 100 s of three riders

race_keys();

produce($_, 0 .. 100) for qw(a1 b2 c3);

ok(ticks(30, sub { 3 == grep { ($ticked{$_}{seq} // 0) == 101
    && defined $ticked{$_}{rank} } qw(a1 b2 c3) }),
    'ticks with the standings of the three riders came')
    or diag(explain(\%ticked));

my ($ra, $rb, $rc) = @ticked{qw(a1 b2 c3)};

near($ra->{dist_m}, 1000, $TOL_M, "a1 at 1000 m (within $TOL_M m)");
near($rb->{dist_m}, 800, $TOL_M, "b2 at 800 m (within $TOL_M m)");
near($rc->{dist_m}, 900, $TOL_M, "c3 at 900 m (within $TOL_M m)");
is_deeply([map { $_->{rank} } $ra, $rc, $rb], [1, 2, 3],
    'ranked by distance: a1, c3, b2');
near($ra->{gap_s}, 0, 0, 'the leader has no gap');
near($rc->{gap_s}, 10, $TOL_S, "c3 10 s behind a1 (within $TOL_S s)");
near($rb->{gap_s}, 20, $TOL_S, "b2 20 s behind a1, timed at its place "
    . "(within $TOL_S s)");
near($rb->{gap_prev_s}, 100 - 800 / 9, $TOL_S,
    "b2 11.1 s behind c3 (within $TOL_S s)");
is($ra->{status}, 'stale', 'an hour after its last fix a rider is stale');
is($ra->{bib}, '1', 'the entry is in the state beside the standings');

my $snap = state($RACE, 'b2') || {};
is($snap->{rank}, 3, 'the snapshot hash has the rank');
near($snap->{dist_m}, 800, $TOL_M, 'and the distance');
ok(exists $snap->{gap_s} && exists $snap->{splits},
    'and the gaps and splits');

###############################################################################
# c3 marked dnf: last, and b2 moves up without a fix of its own

%ticked = ();
race_keys(rev => 2, c3 => 'dnf');
redis('PUBLISH', 'race:races', $RACE);

ok(ticks(20, sub { ($ticked{c3}{status} // '') eq 'dnf'
    && ($ticked{b2}{rank} // 0) == 2 }),
    'a tick has c3 dnf and b2 moved up') or diag(explain(\%ticked));
is($ticked{c3}{rank}, 3, 'the dnf rider ranks last, ahead on the road');
is($ticked{b2}{seq}, 101, 'b2 without a new fix');
ok(!exists $ticked{a1}, 'a1, whose standing is the same, is not in it');
ok(wait_for(sub { (state($RACE, 'c3') || {})->{status} eq 'dnf' }, 10),
    'the snapshot hash has c3 dnf');

###############################################################################
# a1 finishes; b2 rides into a dead zone (181 .. 220 s come later)

produce('a1', 101 .. 215);
produce('b2', 101 .. 180, 221 .. 240);

ok(ticks(30, sub { ($ticked{a1}{status} // '') eq 'finished' }),
    'a1 finished') or diag(explain($ticked{a1}));
near($ticked{a1}{finish_s}, $LEN / 10, $TOL_S,
    "at its time (within $TOL_S s)");
near($ticked{a1}{splits}[0], 100, $TOL_S,
    "its split at the checkpoint (within $TOL_S s)");

###############################################################################
# the race finishes: results

my $stored = count({ race => $RACE });
is($stored, 3 * 101 + 115 + 80 + 20, 'every fix is stored');

race_keys(rev => 3, c3 => 'dnf', status => 'finished');
redis('PUBLISH', 'race:races', $RACE);

ok(wait_for(sub { defined redis('GET', "race:race:$RACE:results") }, 30),
    'the results are in Redis');
my $res = $json->decode(redis('GET', "race:race:$RACE:results"));
my %by = map { $_->{rider} => $_ } @{$res->{riders}};

is($res->{race}, $RACE, 'of the race');
is($res->{summary}{starters}, 3, '3 starters: the riders with fixes');
is($res->{summary}{finishers}, 1, '1 finisher');
is_deeply([map { $_->{rider} } @{$res->{riders}}], [qw(a1 b2 c3)],
    'by rank: the finisher, then the one on the course, then dnf');
is($by{a1}{status}, 'finished', 'a1 finished');
near($by{a1}{finish_s}, $LEN / 10, $TOL_S,
    "a1's time within $TOL_S s of the truth");

# the first stored fix of a1 at the line: the time cannot be later
my $line_s = POSIX::ceil($LEN / 10);
ok($by{a1}{finish_s} <= $line_s + 0.5,
    "a1's time is not after its first fix at the line ($line_s s)");
near($by{a1}{splits}[0], 100, $TOL_S, "a1's split (within $TOL_S s)");
is($by{b2}{status}, 'dnf', 'b2, short of the line, is dnf');
near($by{b2}{dist_m}, 8 * 240, $TOL_M, "at its distance (within $TOL_M m)");
is($by{c3}{status}, 'dnf', 'c3 marked dnf');
is($by{a1}{name}, 'Ann', 'with names');
is($by{a1}{bib}, '1', 'and bibs');

sub csv_rows {
    my $csv = redis('GET', "race:race:$RACE:results.csv") // '';
    my @lines = split /\r\n/, $csv;
    my @head = split /,/, shift(@lines) // '';
    return map { my %h; @h{@head} = split /,/, $_, -1; \%h } @lines;
}

sub agree {
    my ($doc, $what) = @_;
    my @rows = csv_rows();
    is(scalar @rows, scalar @{$doc->{riders}}, "$what: a CSV row a rider");
    for my $i (0 .. $#rows) {
        my ($row, $rj) = ($rows[$i], $doc->{riders}[$i]);
        ok($row->{rider} eq $rj->{rider} && $row->{rank} == $rj->{rank}
            && $row->{status} eq $rj->{status}
            && (defined $rj->{finish_s}
                ? $row->{finish_s} ne '' && abs($row->{finish_s}
                    - $rj->{finish_s}) < 0.01
                : $row->{finish_s} eq ''),
            "$what: the CSV agrees on $rj->{rider}")
            or diag(explain($row, $rj));
    }

    my ($rc, $out) = run([$query, $mongo, $DB, 'results', 'find',
        $json->encode({ _id => $RACE })]);
    my $m = $rc == 0 && $out =~ /^(\{.*\})$/m ? $json->decode($1) : {};
    is($m->{computed}, $doc->{computed},
        "$what: MongoDB has the same results");
    is_deeply([map { [$_->{rider}, $_->{status}, $_->{finish_s}] }
        @{$m->{riders} || []}], [map { [$_->{rider}, $_->{status},
        $_->{finish_s}] } @{$doc->{riders}}],
        "$what: with the same riders and times");
}

agree($res, 'at the finish');

###############################################################################
# the dead zone's backlog after the finish: results made again

produce('b2', 181 .. 220, 241 .. 255);

ok(wait_for(sub {
    my $v = redis('GET', "race:race:$RACE:results") // '{}';
    $json->decode($v)->{computed} != $res->{computed} }, 40),
    'late fixes after the finish: the results are made again');

my $res2 = $json->decode(redis('GET', "race:race:$RACE:results"));
my %by2 = map { $_->{rider} => $_ } @{$res2->{riders}};

is($res2->{summary}{finishers}, 2, 'now 2 finishers');
is($by2{b2}{status}, 'finished', 'b2 finished');
is($by2{b2}{rank}, 2, 'second');
near($by2{b2}{finish_s}, $LEN / 8, $TOL_S,
    "at its time (within $TOL_S s)");
near($by2{b2}{splits}[0], 125, $TOL_S,
    "its split, in the dead zone's backlog (within $TOL_S s)");
is($by2{a1}{finish_s}, $by{a1}{finish_s}, 'a1 unchanged');
agree($res2, 'after the backlog');

is(scalar(log_lines(qr/race $RACE: results made/)), 2,
    'made twice: at the finish, after the backlog (debounced)');
ok(!redis('EXISTS', "race:race:$RACE:results:due"),
    'no results due once they are made');

is($t->stop('tracker'), 0, 'the tracker stops');

###############################################################################
# results left due by a tracker that stopped before making them: the
# marker, set before a batch's offsets are stored, outlives the process

redis('SET', "race:race:$RACE:results:due", 1);

$t->spawn(name => 'tracker', log => $log, argv => [@argv],
    env => $t->san_env('tracker'));

ok(wait_for(sub { !redis('EXISTS', "race:race:$RACE:results:due") }, 30),
    'a tracker that starts makes the results left due');
is(scalar(log_lines(qr/race $RACE: results made/)), 3,
    'made a third time, with no fix to wake it');

is($t->stop('tracker'), 0, 'the tracker stops again');

$t->done;
