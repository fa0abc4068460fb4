#!/usr/bin/perl

# race-tracker and the races of race-accounts (docs/INTERNALS.md,
# "Races"): a rider with an entry has its bib and name in its state and
# in the ticks; a change announced on race:races (a renamed rider, one
# taken off the entries) is in the next tick without a new fix, and
# never moves a rider back; a race without keys is as it always was; a
# tracker that starts reads back the stored fixes of a race with a
# course (the replay the standings are built on); a finished race is
# forgotten once idle, and taken up again by its next fix.  The race
# keys are written here, as race-accounts writes them.

use strict;
use warnings;

use lib 't/lib';
use JSON::PP;
use Test::More;
use Time::HiRes qw(sleep time);
use Race::Test;
use Race::Util;
use Race::RESP;
use Race::Worker;

my $t = Race::Test->new;

my $tracker = $t->build . '/workers/race-tracker';
my $produce = $t->build . '/t/kafka_produce';
my $query = $t->build . '/t/mongo_query';

for ($tracker, $produce, $query) {
    die "no $_: build it first\n" unless -x $_;
}

my $TICK_MS = 200;
my $FORGET_MS = 3000;
my $TOPIC = 'race.fixes';
my $DB = 'ngx_race_t';
my $json = JSON::PP->new->utf8->canonical;

my $redis = $t->redis;
my ($rport) = $redis =~ /:(\d+)$/;
my $kafka = $t->kafka;
my $mongo = $t->ferretdb;

# argv run to its end with stdin from a string: (exit code, output)
sub run { run_tool($t, $_[0], stdin => $_[1]) }

sub start_tracker {
    my (%set) = @_;
    return start_worker($t, 'tracker', [$tracker, tracker_args(
        kafka_brokers => $kafka,
        kafka_topic => $TOPIC,
        kafka_instance_id => 'none',
        mongo_uri => $mongo,
        mongo_db => $DB,
        redis_port => $rport,
        tick_ms => $TICK_MS,
        forget_after_ms => $FORGET_MS,
        %set,
    )]);
}

sub log_lines { log_grep($t, @_) }

my $T0 = 1732400000000;

sub produce {
    my ($race, $rider, @fixes) = @_;
    my $line = "$race\t" . $json->encode({ race => $race, rider => $rider,
        recv => $fixes[-1]{t} + 150, fixes => \@fixes });
    my ($rc, $out) = run([$produce, $kafka, $TOPIC], "$line\n");
    is($rc, 0, "produced a message of $race/$rider") or diag($out);
}

sub fix {
    my ($seq, %more) = @_;
    return { seq => $seq, t => $T0 + $seq * 1000, lat => 45 + $seq / 10000,
        lon => 7.5 + $seq / 10000, %more };
}

sub count {
    my ($race) = @_;
    my ($rc, $out) = run([$query, $mongo, $DB, 'fixes', 'count',
        $json->encode({ race => $race })]);
    return $rc == 0 && $out =~ /^(\d+)$/m ? $1 : -1;
}

sub redis { resp_command($rport, @_) }

sub state { rider_state($rport, @_) }

# a state without the standings' members (a race with a course has
# them, t/standings.t checks them)
my @STANDINGS = qw(dist_m speed_mps rank gap_s gap_prev_s to_go_m eta
    finish_s splits status);
sub fix_part {
    my ($s) = @_;
    return undef unless $s;
    my %c = %$s;
    delete @c{@STANDINGS};
    return \%c;
}

# the keys race-accounts writes for a race
sub race_keys {
    my ($id, %o) = @_;

    my $doc = { _id => $id, name => "Race $id", owner => 'u1',
        public => JSON::PP::true, status => $o{status} || 'live',
        start_at => $T0, started_at => $T0, finished_at => undef,
        rev => $o{rev} || 1, riders => $o{riders} || [] };
    redis('SET', "race:race:$id", $json->encode($doc));
    redis('HSET', "race:race:$id:meta", status => $o{status} || 'live',
        public => 1, owner => 'u1', start_at => $T0,
        finished_at => $o{status} && $o{status} eq 'finished' ? $T0 : 0);
    redis('SET', "race:race:$id:course", $json->encode($o{course}))
        if $o{course};
}

my $COURSE = { laps => 1, points => [[45, 7.5, 240], [45.01, 7.51, 250],
    [45.02, 7.52, 245]] };
my @ENTRIES = (
    { id => 'a1', name => 'Ann "the" Rider', bib => '12',
        status => 'entered' },
    { id => 'b2', name => "Bj\x{f8}rn", bib => '7', status => 'entered' },
);

race_keys('rk1', course => $COURSE, riders => \@ENTRIES);
race_keys('rk2', riders => [{ id => 'x1', name => 'Xu', bib => 3,
    status => 'entered' }]);

# the live channels, subscribed before anything is produced
my $sub = resp_conn($rport);
resp_send($sub, 'SUBSCRIBE', map { "race:$_:live" } qw(rk1 rk2 adhoc));
for (1 .. 3) {
    my $r = resp_read($sub, time + 5);
    die "subscribe failed\n" unless ref $r && $r->[0] eq 'subscribe';
}

# the states of rider in the ticks of race that arrive within secs, or
# until one matches $until
sub tick_states {
    my ($race, $rider, $secs, $until) = @_;
    my @got;
    my $end = time + $secs;
    while (time < $end) {
        while (length $sub->{buf} || resp_fill($sub, $end)) {
            my $r = eval { resp_read($sub, time + 5) };
            last unless $r;
            next unless $r->[0] eq 'message' && $r->[1] eq "race:$race:live";
            my $m = eval { $json->decode($r->[2]) } or next;
            for my $s (@{$m->{riders} || []}) {
                next unless ($s->{rider} // '') eq $rider;
                push @got, $s;
                return @got if $until && $until->($s);
            }
        }
    }
    return @got;
}

###############################################################################
# bib and name in the states and the ticks; an ad-hoc race as before

my $log = start_tracker();

produce('rk1', 'a1', fix(1), fix(2, spd => 9.5));
produce('rk1', 'b2', fix(1));
produce('rk1', 'c3', fix(1));
produce('rk2', 'x1', fix(1));
produce('adhoc', 'z1', fix(1, ele => 100));

ok(wait_for(sub { state('adhoc', 'z1') && state('rk1', 'c3') }),
    'the states are written');

ok(wait_for(sub { defined((state('rk1', 'a1') || {})->{rank}) }),
    'a race with a course: standings in the states');
is_deeply(fix_part(state('rk1', 'a1')), { rider => 'a1', bib => '12',
    name => 'Ann "the" Rider', lat => 45.0002, lon => 7.5002,
    t => $T0 + 2000, seq => 2, spd => 9.5 },
    'an entered rider: its bib and name, escaped');
is(state('rk1', 'b2')->{name}, "Bj\x{f8}rn", 'a name in UTF-8');
is_deeply(state('rk2', 'x1'), { rider => 'x1', bib => '3', name => 'Xu',
    lat => 45.0001, lon => 7.5001, t => $T0 + 1000, seq => 1 },
    'a race without a course too; a numeric bib as a string');
is_deeply(fix_part(state('rk1', 'c3')), { rider => 'c3', lat => 45.0001,
    lon => 7.5001, t => $T0 + 1000, seq => 1 },
    'a rider without an entry: no bib, no name');
is_deeply(state('adhoc', 'z1'), { rider => 'z1', lat => 45.0001,
    lon => 7.5001, t => $T0 + 1000, seq => 1, ele => 100 },
    'a race without keys: the state as always');

produce('rk1', 'a1', fix(3));
my @s = tick_states('rk1', 'a1', 10, sub { $_[0]{seq} == 3 });
my $last = $s[-1] || {};
is($last->{seq}, 3, 'a tick with the new fix came');
is($last->{bib}, '12', 'a tick carries the bib');
is($last->{name}, 'Ann "the" Rider', 'and the name');

ok(log_lines($log, qr/race rk1: loaded, status live, 2 riders entered, a course/),
    'the race was loaded with its entries and course');
my ($first) = map { /(\d+) stored fixes replayed/ }
    log_lines($log, qr/race rk1: standings made/);
ok(defined $first, 'its standings were made, fed what was stored')
    or diag($t->read_file($log));
ok(!log_lines($log, qr/race rk2: standings made/),
    'none for a race without a course');
ok(!log_lines($log, qr/race adhoc: (loaded|standings)/),
    'nothing for a race without keys');

###############################################################################
# a change announced on race:races shows in the next tick, without a fix

race_keys('rk1', course => $COURSE, rev => 2, riders => [
    { %{$ENTRIES[0]}, name => 'Anna' }]);
redis('PUBLISH', 'race:races', 'rk1');

@s = tick_states('rk1', 'a1', 10, sub { ($_[0]{name} // '') eq 'Anna' });
$last = $s[-1] || {};
is($last->{name}, 'Anna', 'the renamed rider is in the next tick');
is($last->{seq}, 3, 'with its newest fix');
is($last->{bib}, '12', 'and its bib');
ok(wait_for(sub { (state('rk1', 'a1') || {})->{name} eq 'Anna' }),
    'its state has the new name');

ok(wait_for(sub { !exists((state('rk1', 'b2') || {})->{name}) }),
    'a rider taken off the entries loses bib and name');
is(state('rk1', 'b2')->{seq}, 1, 'but keeps its fix');

ok(log_lines($log, qr/race rk1: loaded again, status live, 1 riders entered/),
    'the race was loaded again');
is(scalar(log_lines($log, qr/race rk1: standings made/)), 1,
    'the same course: the standings are not made again');

# a late fix: stored, but neither the fix nor the name goes back
produce('rk1', 'a1', { %{fix(0)}, seq => 40 });
ok(wait_for(sub { count('rk1') == 6 }), 'the late fix is stored');
sleep 2 * $TICK_MS / 1000;
is_deeply(fix_part(state('rk1', 'a1')), { rider => 'a1', bib => '12',
    name => 'Anna',
    lat => 45.0003, lon => 7.5003, t => $T0 + 3000, seq => 3 },
    'the late fix did not move the rider back');

# a change of a race the tracker has not seen: nothing to do
redis('PUBLISH', 'race:races', 'unknown1');

###############################################################################
# a restart: the stored fixes of a race with a course are read back

is($t->stop('tracker'), 0, 'the tracker stops');
my ($stopped) = log_lines($log, qr/\] race-tracker\[\d+\]: stopped/);
my $want = $first // -1;
like($stopped // '', qr/, \d+ race loads, $want replayed fixes/,
    'the exit line counts the fixes replayed') or diag($stopped);

my $stored = count('rk1');
$log = start_tracker();

produce('rk1', 'a1', fix(4));
produce('rk2', 'x1', fix(2));
ok(wait_for(sub { (state('rk1', 'a1') || {})->{seq} == 4 }),
    'the restarted tracker works');
is(state('rk1', 'a1')->{name}, 'Anna', 'with the entries of the race');

# the new fix's batch is written to MongoDB while the replay reads it
# (race-tracker's pipeline): the replay has it or not, and the batch is
# fed to the standings after it either way
ok(log_lines($log,
    qr/race rk1: standings made, (?:$stored|@{[$stored + 1]}) stored fixes /
        . qr/replayed/),
    'its standings were fed every stored fix')
    or diag($t->read_file($log));
ok(!log_lines($log, qr/mongo: (cannot make index|replay)/),
    'read with its index, in order, without errors');

###############################################################################
# a finished race is forgotten once idle, and comes back with a fix

race_keys('rk1', course => $COURSE, rev => 3, status => 'finished',
    riders => [{ %{$ENTRIES[0]}, name => 'Anna' }]);
redis('PUBLISH', 'race:races', 'rk1');

ok(wait_for(sub { log_lines($log, qr/race rk1: loaded again, status finished/) }),
    'the finished race is loaded again');
ok(wait_for(sub { log_lines($log, qr/race rk1: forgotten, finished and idle/) },
    $FORGET_MS / 1000 + 10), 'and forgotten once idle');
ok(!log_lines($log, qr/race rk2: forgotten/), 'a live race is kept');

produce('rk1', 'a1', fix(5));
ok(wait_for(sub { (state('rk1', 'a1') || {})->{seq} == 5 }),
    'a fix of the forgotten race is taken');
is(state('rk1', 'a1')->{name}, 'Anna', 'with its entries, loaded again');
ok(wait_for(sub { log_lines($log, qr/race rk1: standings made/) == 2 }),
    'and its standings made again');

is($t->stop('tracker'), 0, 'the tracker stops');
($stopped) = log_lines($log, qr/\] race-tracker\[\d+\]: stopped/);
# each replay may or may not have had the fix of the batch it was for
like($stopped // '', qr/, [1-9]\d* race loads, (?:@{[2 * $stored + 1]}|@{[
    2 * $stored + 2]}|@{[2 * $stored + 3]}) replayed fixes/,
    'the exit line counts the loads and the fixes replayed') or diag($stopped);

###############################################################################
# a live race its organizer never finished is forgotten after
# forget_live_after_ms without a fix, and comes back with one

$log = start_tracker(forget_live_after_ms => $FORGET_MS);
produce('rk2', 'x1', fix(9));
ok(wait_for(sub { (state('rk2', 'x1') || {})->{seq} == 9 }),
    'a fix of the live race');
ok(wait_for(sub { log_lines($log, qr/race rk2: forgotten, live and idle/) },
    $FORGET_MS / 1000 + 10), 'the live race is forgotten once idle');
produce('rk2', 'x1', fix(10));
ok(wait_for(sub { log_lines($log, qr/race rk2: loaded, /) == 2 }),
    'and loaded again by its next fix');
is($t->stop('tracker'), 0, 'the tracker stops again');

$t->done;
