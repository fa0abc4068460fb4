#!/usr/bin/perl

# race-accounts and the race commands (docs/INTERNALS.md, "Races"):
# produced straight to Kafka as the module sends them, answered on their
# reply channel, the race in MongoDB (races, courses) and in every Redis
# key the module and the tracker read.  Organizers edit their own races,
# admins all; the status only moves forward and freezes the course once
# live; bibs are unique; a rider or a link taken away has its token
# revoked as the revoke command does; races start and close by the clock;
# a command delivered again is applied once; Redis that comes back empty
# gets the races again; a bad command is answered and stores nothing; one
# past its deadline applies nothing.

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
use Race::Replies;

my $t = Race::Test->new;

my $accounts = $t->build . '/workers/race-accounts';
my $produce = $t->build . '/t/kafka_produce';
my $query = $t->build . '/t/mongo_query';

for ($accounts, $produce, $query) {
    die "no $_: build it first\n" unless -x $_;
}

my $TOPIC = 'race.accounts';
my $DB = 'ngx_race_t';
my $json = JSON::PP->new->canonical->utf8;

my $redis_addr = $t->redis;
my ($rport) = $redis_addr =~ /:(\d+)$/;
my $kafka = $t->kafka;
my $mongo = $t->ferretdb;

# runs argv with stdin from a string; (exit code, stdout, stderr); bounded
sub run { run_tool($t, @_, split_err => 1) }

sub settings {
    my (%set) = @_;
    return accounts_args(
        kafka_brokers => $kafka,
        kafka_topic => $TOPIC,
        kafka_group => 'races',
        mongo_uri => $mongo,
        mongo_db => $DB,
        redis_port => $rport,
        %set,
    );
}

# MongoDB

sub mongo_find {
    my ($coll, $filter) = @_;
    my ($rc, $out) = run([$query, $mongo, $DB, $coll, 'find',
        $json->encode($filter)]);
    return [] if $rc != 0;
    return [map { $json->decode($_) } grep { /^\{/ } split /\n/, $out];
}

sub mongo_race { mongo_find('races', { _id => $_[0] })->[0] }

# Redis, and what is published: replies by request id, the rest by channel

sub redis { resp_command($rport, @_) }

sub redis_hash {
    my $r = redis('HGETALL', $_[0]);
    return ref $r ? {@$r} : {};
}

my $REPLY = 'race:reply:1';
my (%replies, %heard);
my $pub = Race::Replies->new($rport, [$REPLY], ['race:races',
    'race:revoked'], \%replies, \%heard);

sub subscribe { $pub->subscribe }
sub read_published { $pub->collect(@_) }
sub replies { $pub->replies(@_) }
sub reply { $pub->reply(@_) }

# waits until the channel has carried msg
sub heard { $pub->heard(@_) }

# Kafka

sub produce {
    my (@msgs) = @_;
    my ($rc, $out, $err) = run([$produce, $kafka, $TOPIC],
        stdin => join('', map { "$_->[0]\t$_->[1]\n" } @msgs));
    is($rc, 0, 'produced ' . @msgs . ' commands') or diag($out . $err);
}

# commands

my $nid = 0;
sub new_id { sprintf '%032x', 0xace0000 + ++$nid }

my $nreq = 0;
sub new_req { 'q' . ++$nreq }

my $HASH = '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA'
    . '$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g';

# a command: [key, text], and its req
sub command {
    my ($key, %cmd) = @_;
    my $req = new_req();
    return [$key, $json->encode({ req => $req, reply => $REPLY, %cmd })],
        $req;
}

# sends one command, returns its reply
sub ask {
    my ($key, %cmd) = @_;
    my ($c, $req) = command($key, %cmd);
    produce($c);
    return reply($req);
}

sub race_cmd {
    my ($op, $race, $by, %more) = @_;
    return ask($race, op => $op, race => $race, by => $by,
        deadline => now_ms() + 30000, %more);
}

my $SUMMARY = { laps => 1, length_m => 1112.3, lap_length_m => 1112.3,
    points => 3, ele => JSON::PP::true, bbox => [7.6, 45, 7.61, 45.01],
    checkpoints => [{ name => 'Half', dist_m => 556.1 }] };
my $COURSE = { laps => 1, points => [[45, 7.6, 240], [45.005, 7.605, 250],
    [45.01, 7.61, 260]] };

sub create {
    my ($id, $by, %race) = @_;
    return ask($id, op => 'race_create', by => $by,
        deadline => now_ms() + 30000,
        race => { id => $id, name => "Race $id", public => JSON::PP::true,
            start_at => now_ms() + 3600000, close_at => undef,
            course => $SUMMARY, %race },
        course => $COURSE);
}

sub ok_race {
    my ($r, $what) = @_;
    ok($r->{ok}, "$what: ok")
        or diag($r->{text} // 'no reply');
    return $r->{race} || {};
}

sub refused {
    my ($r, $code, $what) = @_;
    ok(defined $r->{ok} && !$r->{ok}, "$what: refused")
        or diag($r->{text} // 'no reply');
    is($r->{code}, $code, "$what: $code");
}

###############################################################################
# the users: an admin from the command line, two organizers and a rider

my $pwfile = $t->write_file('admin.pw', "correct horse battery staple\n");
chmod 0600, $pwfile;
my ($rc, $out, $err) = run([$accounts, settings(), '--create-admin',
    'admin@example.org', '--name', 'Ada', '--password-file', $pwfile],
    env => $t->san_env('create-admin'));
is($rc, 0, 'the admin') or diag($err);
my ($admin) = $out =~ /^([0-9a-f]{32})$/m;

subscribe();

my $log = start_worker($t, 'accounts', [$accounts, settings()]);

ok(wait_for(sub { (redis('GET', 'race:races:loaded') // '') eq '1' }),
    'race:races:loaded is set at the start');

my ($org1, $org2, $rider) = map { new_id() } 1 .. 3;
for ([$org1, 'o1'], [$org2, 'o2'], [$rider, 'r1']) {
    my $r = ask($_->[0], op => 'signup', user => { id => $_->[0],
        email => "$_->[1]\@example.com", name => $_->[1], hash => $HASH });
    ok($r->{ok}, "signup of $_->[1]") or diag($r->{text});
}
for ($org1, $org2) {
    my $r = ask($_, op => 'role', user => $_, role => 'organizer',
        by => $admin);
    ok($r->{ok}, 'an organizer') or diag($r->{text});
}

###############################################################################
# race_create: the reply, MongoDB, every Redis key, the news

my $start = now_ms() + 3600000;
my $r = create('race1', $org1, start_at => $start);
my $race = ok_race($r, 'race_create');
is($race->{id}, 'race1', 'the reply has the race, id for _id');
is($race->{status}, 'scheduled', 'scheduled');
is($race->{owner}, $org1, 'owned by who made it');
is($race->{rev}, 1, 'rev 1');
ok(!exists $race->{_id} && !exists $race->{links}, 'no _id, no links');

my $doc = mongo_race('race1') || {};
is($doc->{name}, 'Race race1', 'MongoDB: the race');
is($doc->{start_at}, $start, 'its start_at');
is_deeply($doc->{riders}, [], 'no riders');
is_deeply($doc->{links}, [], 'no links');
is_deeply($doc->{course}{checkpoints}, $SUMMARY->{checkpoints},
    'the summary with its checkpoints');
my $course = mongo_find('courses', { _id => 'race1' })->[0] || {};
is_deeply([@$course{qw(laps lat lon ele)}], [1, [45, 45.005, 45.01],
    [7.6, 7.605, 7.61], [240, 250, 260]],
    'MongoDB: the course, in flat arrays (FerretDB has no nested ones)');

my $rdoc = eval { $json->decode(redis('GET', 'race:race:race1')) } || {};
is($rdoc->{id}, 'race1', 'Redis: race:race:race1');
is_deeply($rdoc->{course}{bbox}, [7.6, 45, 7.61, 45.01],
    'short numbers in Redis');
is_deeply(redis_hash('race:race:race1:meta'), { status => 'scheduled',
    public => 1, owner => $org1, start_at => $start, finished_at => 0,
    rev => 1 }, 'Redis: the :meta hash');
is_deeply(eval { $json->decode(redis('GET', 'race:race:race1:course')) },
    $COURSE, 'Redis: the :course');
is(redis('ZSCORE', 'race:races:scheduled', 'race1'), $start,
    'in race:races:scheduled, by start_at');
is(redis('ZSCORE', "race:races:owner:$org1", 'race1'), $start,
    "in race:races:owner:<owner>");
ok(heard('race:races', 'race1'), 'race1 published on race:races');

# only organizers and admins make races
refused(create('race2', $rider), 'not_owner', 'a rider makes a race');
ok(!mongo_race('race2'), 'nothing stored');
ok(!defined redis('GET', 'race:race:race2'), 'nothing in Redis');

###############################################################################
# race_update

$r = race_cmd('race_update', 'race1', $org1, set => { name => 'Coppa',
    public => JSON::PP::false, start_at => $start + 60000 });
$race = ok_race($r, 'name, public and start_at');
is($race->{name}, 'Coppa', 'renamed');
is($race->{rev}, 2, 'rev 2');
is((mongo_race('race1') || {})->{name}, 'Coppa', 'in MongoDB');
ok(!defined redis('ZSCORE', 'race:races:scheduled', 'race1'),
    'private: out of race:races:scheduled');
is(redis('ZSCORE', "race:races:owner:$org1", 'race1'), $start + 60000,
    'still its owner\'s, at the new start_at');
is(redis('HGET', 'race:race:race1:meta', 'public'), '0', ':meta public 0');

refused(race_cmd('race_update', 'race1', $org2, set => { name => 'Mine' }),
    'not_owner', 'another organizer');
$race = ok_race(race_cmd('race_update', 'race1', $admin,
    set => { public => JSON::PP::true }), 'an admin');
is(redis('ZSCORE', 'race:races:scheduled', 'race1'), $start + 60000,
    'public again');

###############################################################################
# riders

my %p1 = (id => 'p1', name => 'Ann', bib => '7', user => $rider,
    jti => 'jti-p1', exp => int(time) + 86400);
my ($c, $req) = command('race1', op => 'race_rider_add', race => 'race1',
    by => $org1, rider => \%p1);
produce($c, $c);
my @r = replies($req, 2);
is(scalar @r, 2, 'a rider_add delivered twice: two replies');
ok_race($r[0], 'rider p1');
is_deeply($r[0]{rider}, { id => 'p1', name => 'Ann', bib => '7',
    user => $rider, status => 'entered', exp => $p1{exp} },
    'the entry in the reply, without its jti');
is($r[1]{race}{rev}, $r[0]{race}{rev}, 'the second changed nothing');
$doc = mongo_race('race1') || {};
is(scalar @{$doc->{riders} || []}, 1, 'MongoDB: one entry');
is($doc->{riders}[0]{jti}, 'jti-p1', 'which keeps its jti');
unlike(redis('GET', 'race:race:race1') // '', qr/jti/,
    'no jti in race:race:race1');
is_deeply(redis('SMEMBERS', "race:user:$rider:races"), ['race1'],
    'race:user:<user>:races');

refused(race_cmd('race_rider_add', 'race1', $org1, rider => { id => 'p2',
    name => 'Bob', bib => '7', jti => 'jti-p2', exp => $p1{exp} }),
    'bib_taken', 'a bib taken');
ok_race(race_cmd('race_rider_add', 'race1', $org1, rider => { id => 'p2',
    name => 'Bob', bib => '8', jti => 'jti-p2', exp => $p1{exp} }),
    'rider p2');
refused(race_cmd('race_rider_update', 'race1', $org1, rider => 'p2',
    set => { bib => '7' }), 'bib_taken', 'p2 takes bib 7');
refused(race_cmd('race_rider_update', 'race1', $org1, rider => 'p9',
    set => { bib => '9' }), 'no_rider', 'no such rider');
$r = race_cmd('race_rider_update', 'race1', $org1, rider => 'p2',
    set => { status => 'dnf', name => 'Bobby' });
ok_race($r, 'p2 dnf');
is($r->{rider}{status}, 'dnf', 'its status');
is((mongo_race('race1') || {})->{riders}[1]{name}, 'Bobby', 'in MongoDB');

# removed: its token revoked as the revoke command does
$r = race_cmd('race_rider_remove', 'race1', $org1, rider => 'p1');
$race = ok_race($r, 'p1 removed');
is(scalar @{$race->{riders}}, 1, 'one entry left');
my $revd = mongo_find('revocations', { _id => 'jti-p1' })->[0] || {};
is($revd->{exp}, $p1{exp}, 'MongoDB: the revocation');
is(redis('GET', 'race:revoked:jti-p1'), $p1{exp}, 'race:revoked:<jti>');
ok(heard('race:revoked', 'jti-p1'), 'published on race:revoked');
is_deeply(redis('SMEMBERS', "race:user:$rider:races"), [],
    'the user is in the race no more');
$r = race_cmd('race_rider_remove', 'race1', $org1, rider => 'p1');
ok_race($r, 'p1 removed again: ok');
is($r->{race}{rev}, $race->{rev}, 'no change');

# links
$r = race_cmd('race_link_add', 'race1', $org1, link => { jti => 'lnk1',
    exp => int(time) + 3600 });
ok_race($r, 'a spectator link');
is($r->{link}{jti}, 'lnk1', 'the link in the reply');
is(scalar @{(mongo_race('race1') || {})->{links} || []}, 1,
    'MongoDB: the link');
ok_race(race_cmd('race_link_remove', 'race1', $org1, jti => 'lnk1'),
    'the link removed');
ok(defined redis('GET', 'race:revoked:lnk1'), 'its token revoked');
ok(heard('race:revoked', 'lnk1'), 'published on race:revoked');

###############################################################################
# the status: forward only, the course frozen once live

refused(race_cmd('race_finish', 'race1', $org1, at => now_ms()),
    'bad_status', 'finished before it started');
my $at = now_ms();
$race = ok_race(race_cmd('race_start', 'race1', $org1, at => $at),
    'race_start');
is($race->{status}, 'live', 'live');
is($race->{started_at}, $at, 'started_at');
is(redis('HGET', 'race:race:race1:meta', 'status'), 'live', ':meta live');
ok(defined redis('ZSCORE', 'race:races:live', 'race1'), 'race:races:live');
ok(!defined redis('ZSCORE', 'race:races:scheduled', 'race1'),
    'not scheduled any more');
refused(race_cmd('race_start', 'race1', $org1, at => $at + 1),
    'bad_status', 'started again');
refused(race_cmd('race_update', 'race1', $org1,
    set => { course => { %$SUMMARY, laps => 2 } },
    course => { laps => 2, points => [ @{$COURSE->{points}}[0, 1],
        $COURSE->{points}[0] ] }), 'bad_status', 'a course once live');
refused(race_cmd('race_update', 'race1', $org1,
    set => { checkpoints => [] }), 'bad_status', 'checkpoints once live');
ok_race(race_cmd('race_update', 'race1', $org1, set => { name => 'Live' }),
    'a name once live');
$race = ok_race(race_cmd('race_finish', 'race1', $org1, at => $at + 5000),
    'race_finish');
is($race->{finished_at}, $at + 5000, 'finished_at');
is(redis('HGET', 'race:race:race1:meta', 'finished_at'), $at + 5000,
    ':meta finished_at');
ok(defined redis('ZSCORE', 'race:races:finished', 'race1'),
    'race:races:finished');
refused(race_cmd('race_start', 'race1', $org1, at => $at), 'bad_status',
    'started once finished');

###############################################################################
# by the clock: started at start_at, finished at close_at, by one of two
# workers that both watch the clock (the second consumes another topic)

my $log2 = start_worker($t, 'accounts2', [$accounts,
    settings(kafka_topic => 'race.other', kafka_group => 'other')]);

my $s2 = now_ms() + 2000;
ok_race(create('race3', $org2, start_at => $s2, close_at => $s2 + 2000),
    'a race starting in 2 s and closing 2 s later');
ok(wait_for(sub { (redis('HGET', 'race:race:race3:meta', 'status') // '')
    eq 'live' }, 20, 0.1), 'live by the clock');
cmp_ok(now_ms(), '>=', $s2, 'not before start_at');
is((mongo_race('race3') || {})->{started_at}, $s2, 'started_at = start_at');
ok(wait_for(sub { (redis('HGET', 'race:race:race3:meta', 'status') // '')
    eq 'finished' }, 20, 0.1), 'finished by the clock');
cmp_ok(now_ms(), '>=', $s2 + 2000, 'not before close_at');
is((mongo_race('race3') || {})->{finished_at}, $s2 + 2000,
    'finished_at = close_at');
is((mongo_race('race3') || {})->{rev}, 3,
    'two changes, two revs, with two workers on the clock');
ok(wait_for(sub { read_published(0.1);
    grep({ $_ eq 'race3' } @{$heard{'race:races'} || []}) == 3 }, 10),
    'published at each change') or diag(explain($heard{'race:races'}));
read_published(1);
is(scalar(grep { $_ eq 'race3' } @{$heard{'race:races'}}), 3,
    'once each, not once per worker');
is($t->stop('accounts2'), 0, 'the second worker: TERM, exit code 0');

###############################################################################
# bad commands: answered, nothing stored; expired: nothing applied

($c, $req) = command('race4', op => 'race_create', by => $org1,
    race => { id => 'race4', name => 'Bad', public => JSON::PP::true,
        start_at => $start, course => $SUMMARY },
    course => { laps => 1, points => [[95, 7]] });
produce($c);
refused(reply($req), 'bad_command', 'a course of one bad point');
ok(!mongo_race('race4'), 'nothing stored');
ok(!@{mongo_find('courses', { _id => 'race4' })}, 'no course either');

($c, $req) = command('race5', op => 'race_create', by => $org1,
    deadline => now_ms() - 1000,
    race => { id => 'race5', name => 'Late', public => JSON::PP::true,
        start_at => $start, course => $SUMMARY }, course => $COURSE);
my ($c2, $req2) = command('race5', op => 'race_start', race => 'race5',
    by => $org1, at => now_ms());
produce($c, $c2);
refused(reply($req2), 'no_race', 'after an expired race_create: no race');
is(scalar @{$replies{$req} || []}, 0, 'the expired command got no reply');
ok(!mongo_race('race5'), 'and stored nothing');

###############################################################################
# Redis comes back empty: the races are loaded again

redis('FLUSHALL');
ok(wait_for(sub { (redis('GET', 'race:races:loaded') // '') eq '1' }),
    'race:races:loaded is back');
is((eval { $json->decode(redis('GET', 'race:race:race1') // '') } || {})
    ->{name}, 'Live', 'race:race:race1 is back');
is(redis('HGET', 'race:race:race3:meta', 'status'), 'finished',
    'race3\'s :meta');
is_deeply(eval { $json->decode(redis('GET', 'race:race:race1:course')) },
    $COURSE, 'the course');
ok(defined redis('ZSCORE', 'race:races:finished', 'race3'),
    'the sorted sets');
is(redis('ZCARD', "race:races:owner:$org1"), 1, 'the owners\' sets');
ok(grep({ /loaded 2 races into redis/ } split /\n/, $t->read_file($log)),
    'the worker says how many');

# a reload that comes late never takes a race back
redis('HSET', 'race:race:race1:meta', 'rev', 99);
redis('SET', 'race:race:race1', 'newer');
redis('DEL', 'race:races:loaded');
ok(wait_for(sub { (redis('GET', 'race:races:loaded') // '') eq '1' }),
    'loaded again');
is(redis('GET', 'race:race:race1'), 'newer', 'a newer rev in Redis stays');

is($t->stop('accounts'), 0, 'TERM: exit code 0');

$t->done;
