#!/usr/bin/perl

# race-accounts: account commands from Kafka into MongoDB and Redis, each
# answered on its reply channel: a signup stored once, a taken email
# refused, logouts and role changes that move gen on once however often
# they are delivered; bad commands answered and skipped without blocking
# what follows; Redis rebuilt from MongoDB when it comes back empty;
# nothing lost while MongoDB is down; the first admin made from the
# command line without its password ever shown; bad settings refused
# before anything is connected.

use strict;
use warnings;

use lib 't/lib';
use IO::Select;
use IO::Socket::INET;
use Encode qw(encode_utf8);
use JSON::PP;
use Test::More;
use Time::HiRes qw(sleep time);
use Race::Test;
use Race::Util;
use Race::RESP;
use Race::Worker;
use Race::Replies;
use Race::Engine::FerretDB;
use Race::Engine::Redis;

my $t = Race::Test->new;
my $dir = $t->dir;

my $accounts = $t->build . '/workers/race-accounts';
my $produce = $t->build . '/t/kafka_produce';
my $committed = $t->build . '/t/kafka_committed';
my $query = $t->build . '/t/mongo_query';

for ($accounts, $produce, $committed, $query) {
    die "no $_: build it first (make -C workers and make -C t, "
        . "BUILD=...)\n" unless -x $_;
}

my $TOPIC = 'race.accounts';
my $GROUP = 'accounts';
my $DB = 'ngx_race_t';
my $json = JSON::PP->new->canonical->utf8;

# runs argv with stdin from a string; (exit code, stdout, stderr); bounded
sub run { run_tool($t, @_, split_err => 1) }

###############################################################################
# settings: refused before anything is connected, exit 2, named and quoted

my @nowhere = ('--set', 'kafka_brokers=127.0.0.1:1',
    '--set', 'mongo_uri=mongodb://127.0.0.1:1/', '--set', 'redis_port=1');

sub bad_usage {
    my ($args, $re, $what) = @_;

    my $t0 = time;
    my ($rc, $out, $err) = run([$accounts, @nowhere, @$args],
        env => $t->san_env('accounts-conf'), timeout => 20);

    is($rc, 2, "$what: exit 2") or diag($out . $err);
    like($err, $re, "$what: the message says what is wrong");
    is($out, '', "$what: nothing on stdout");
    ok(time - $t0 < 10, "$what: at once");
}

bad_usage(['--set', 'reload_check_ms=10'],
    qr/^race-accounts: reload_check_ms: "10" is out of range \(100..60000\)$/m,
    'reload_check_ms below its bounds');
bad_usage(['--set', 'reload_batch=0'], qr/reload_batch: "0" is out of range/,
    'reload_batch');
bad_usage(['--set', 'retry_max_ms=later'],
    qr/retry_max_ms: "later" is not a number/, 'not a number');
bad_usage(['--set', 'log_level=loud'],
    qr/log_level: "loud" is not one of debug, info, warn, error/,
    'log level');
bad_usage(['--set', 'colour=blue'], qr/unknown setting "colour"/,
    'unknown setting');
bad_usage(['--set', 'kafka_topic=race accounts'],
    qr/kafka_topic: "race accounts" is not a topic name/, 'kafka_topic');
bad_usage(['--set', 'mongo_db=a.b'], qr/mongo_db: "a\.b" is not a database/,
    'mongo_db');

my $conf = $t->write_file('bad.conf', "# a comment\nreload_batch 10\n\n"
    . "redis_port 70000\n");
bad_usage(['-c', $conf],
    qr/bad\.conf:4: redis_port: "70000" is out of range/,
    'a bad line in a file');

bad_usage(['--create-admin', 'a@example.com'],
    qr/--create-admin needs --name and --password-file/,
    '--create-admin alone');
bad_usage(['--name', 'Ann'], qr/go with --create-admin/,
    '--name without --create-admin');

my ($rc, $out, $err) = run([$accounts, '-c',
    $t->root . '/conf/race-accounts.conf', '-t'],
    env => $t->san_env('accounts-conf'));
is($rc, 0, 'the sample conf/race-accounts.conf is valid') or diag($err);

###############################################################################
# the servers

my $redis = $t->redis;
my ($rport) = $redis =~ /:(\d+)$/;
my $kafka = $t->kafka;
my $mongo = $t->ferretdb;

sub settings {
    my (%set) = @_;
    return accounts_args(
        kafka_brokers => $kafka,
        kafka_topic => $TOPIC,
        kafka_group => $GROUP,
        mongo_uri => $mongo,
        mongo_db => $DB,
        redis_port => $rport,
        %set,
    );
}

sub start_accounts {
    my ($name, %set) = @_;
    return start_worker($t, $name, [$accounts, settings(%set)]);
}

# "stopped: N messages, N malformed, N applied, N refused, N users loaded"
sub stopped {
    my ($log) = @_;
    my ($line) = grep { /\] race-accounts\[\d+\]: stopped/ }
        split /\n/, $t->read_file($log);
    return unless $line;
    my %n = reverse($line =~ /(\d+) (messages|malformed|applied|refused)/g);
    $n{line} = $line;
    return \%n;
}

# MongoDB

sub mongo {
    my (@args) = @_;
    my ($rc, $out) = run([$query, $mongo, $DB, 'users', @args]);
    return $rc == 0 ? $out : undef;
}

sub mongo_user {
    my ($id) = @_;
    my $out = mongo('find', $json->encode({ _id => $id })) // return;
    return $out =~ /^\{/ ? $json->decode($out) : undef;
}

sub mongo_count {
    my ($filter) = @_;
    my $out = mongo('count', $filter || '{}') // return -1;
    return $out =~ /^(\d+)$/m ? $1 : -1;
}

sub mongo_ids {
    my $out = mongo('ids') // return ['error'];
    return [sort split /\n/, $out];
}

# Redis: RESP over a socket of our own

sub redis { resp_command($rport, @_) }

sub redis_user {
    my ($id) = @_;
    my $r = redis('HGETALL', "race:user:$id");
    return ref $r && @$r ? {@$r} : undef;
}

# the reply channels, subscribed before anything is produced: replies by
# request id, with the channel each came on

my @CHANNELS = qw(race:accounts:reply:1 race:accounts:reply:2);
my $pub = Race::Replies->new($rport, \@CHANNELS);

sub subscribe { $pub->subscribe }

# the replies to a request once n of them arrived (or the time is up)
sub replies { $pub->replies(@_) }
sub reply { $pub->reply(@_) }

# Kafka

my $produced = 0;
sub produce {
    my (@msgs) = @_;
    my ($rc, $out, $err) = run([$produce, $kafka, $TOPIC],
        stdin => join('', map { "$_->[0]\t$_->[1]\n" } @msgs));
    is($rc, 0, 'produced ' . @msgs . ' commands') or diag($out . $err);
    $produced += @msgs;
}

sub committed_total {
    my ($rc, $out) = run([$committed, $kafka, $GROUP, $TOPIC]);
    return -1 if $rc != 0;
    return $out =~ /^total (\d+)$/m ? $1 : -1;
}

# commands, as the module sends them

my $nid = 0;
sub new_id { sprintf '%032x', 0xacc0000 + ++$nid }

my $nreq = 0;
sub new_req { 'q' . ++$nreq }

my $HASH = '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA'
    . '$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g';

sub signup {
    my ($id, $email, $name, %o) = @_;
    my $req = $o{req} || new_req();
    my $cmd = { op => 'signup', req => $req,
        reply => $o{reply} || $CHANNELS[0],
        user => { id => $id, email => $email, name => $name,
            role => 'spectator', hash => $o{hash} || $HASH,
            %{$o{user} || {}} } };
    return [$email, $json->encode($cmd)], $req;
}

sub logout {
    my ($id, %o) = @_;
    my $req = new_req();
    my $cmd = { op => 'logout', req => $req, reply => $CHANNELS[0],
        user => $id, %o };
    return [$id, $json->encode($cmd)], $req;
}

sub role {
    my ($id, $role, $by, %o) = @_;
    my $req = new_req();
    my $cmd = { op => 'role', req => $req, reply => $CHANNELS[1],
        user => $id, role => $role, by => $by, %o };
    return [$id, $json->encode($cmd)], $req;
}

my %users;      # id => what MongoDB and Redis should say

sub check_user {
    my ($id, $what) = @_;
    my $want = $users{$id};

    my $doc = mongo_user($id) || {};
    is_deeply({ map { $_ => $doc->{$_} } qw(_id email name role gen) },
        { _id => $id, map { $_ => $want->{$_} } qw(email name role gen) },
        "$what: MongoDB");

    # Redis has bytes
    my $r = redis_user($id) || {};
    is_deeply($r, { id => $id, hash => $doc->{hash} // 'none',
        map { $_ => encode_utf8($want->{$_}) } qw(email name role gen) },
        "$what: Redis race:user:$id");
    is(redis('GET', "race:email:$want->{email}"), $id,
        "$what: Redis race:email:<email>");
}

sub ok_reply {
    my ($r, $id, $what) = @_;
    my $want = $users{$id};
    ok($r->{ok} && $r->{ok} eq '1', "$what: ok") or diag($r->{text});
    is_deeply($r->{user}, { id => $id,
        map { $_ => $want->{$_} } qw(email name role gen) },
        "$what: the user in the reply, without its hash");
}

###############################################################################
# the first admin, from the command line, before the worker ever ran

my $PASSWORD = 'correct horse battery staple';
my $pwfile = $t->write_file('admin.pw', "$PASSWORD\n");
chmod 0600, $pwfile;

sub create_admin {
    my ($email, $name, $file, @more) = @_;
    return run([$accounts, settings(), '--create-admin', $email,
        '--name', $name, '--password-file', $file, @more],
        env => $t->san_env('create-admin'));
}

($rc, $out, $err) = create_admin(' Admin@Example.ORG ', 'Ada Admin', $pwfile,
    '--common-passwords', $t->root . '/conf/common-passwords.txt');
is($rc, 0, '--create-admin: exit 0') or diag($err);
like($out, qr/^[0-9a-f]{32}\n\z/, 'it prints the user id, only that');
my ($admin) = $out =~ /^([0-9a-f]{32})$/m;
$admin //= 'none';
unlike($out . $err, qr/\Q$PASSWORD\E/, 'the password is never printed');
unlike($err, qr/argon2id/, 'nor its hash');
unlike($err, qr/warning/, 'a file of mode 600 is not warned about');

$users{$admin} = { email => 'admin@example.org', name => 'Ada Admin',
    role => 'admin', gen => 1 };

my $doc = mongo_user($admin) || {};
is($doc->{role}, 'admin', 'the admin is in MongoDB, role admin');
is($doc->{gen}, 1, 'gen 1');
like($doc->{hash} // '', qr/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/,
    'an argon2id hash of our parameters');
ok(($doc->{created} // 0) > 1.7e12, 'created, in Unix ms');
check_user($admin, 'the admin');

# again: the same user, nothing new
($rc, $out, $err) = create_admin('admin@example.org', 'Other Name', $pwfile);
is($rc, 0, '--create-admin again: exit 0') or diag($err);
is($out, "$admin\n", 'the same user id');
like($err, qr/an admin already/, 'it says so');
is(mongo_count(), 1, 'one user');
check_user($admin, 'the admin, unchanged');

# bad ones
my $weak = $t->write_file('weak.pw', "password1\n");
chmod 0600, $weak;
($rc, $out, $err) = create_admin('b@example.org', 'B', $weak,
    '--common-passwords', $t->root . '/conf/common-passwords.txt');
is($rc, 2, 'a common password: exit 2') or diag($err);
unlike($err, qr/password1/, 'and not printed');

my $short = $t->write_file('short.pw', "abc\n");
chmod 0600, $short;
($rc, $out, $err) = create_admin('b@example.org', 'B', $short);
is($rc, 2, 'a short password: exit 2') or diag($err);
($rc, $out, $err) = create_admin('not an email', 'B', $pwfile);
is($rc, 2, 'a bad email: exit 2') or diag($err);
($rc, $out, $err) = create_admin('b@example.org', 'B', "$dir/missing.pw");
is($rc, 2, 'a missing password file: exit 2') or diag($err);
is(mongo_count(), 1, 'nothing was written');

my $open = $t->write_file('open.pw', "$PASSWORD\n");
chmod 0644, $open;
my $admin2;
($rc, $out, $err) = create_admin('root@example.org', 'Root', $open);
is($rc, 0, 'a password file others may read: still done') or diag($err);
like($err, qr/warning: --password-file .*open\.pw may be read by others/,
    'with a warning');
($admin2) = $out =~ /^([0-9a-f]{32})$/m;
$admin2 //= 'none';
$users{$admin2} = { email => 'root@example.org', name => 'Root',
    role => 'admin', gen => 1 };

###############################################################################
# the worker: users loaded into Redis, signups

subscribe();

redis('DEL', 'race:users:loaded');
my $log1 = start_accounts('accounts');

ok(wait_for(sub { (redis('GET', 'race:users:loaded') // '') eq '1' }),
    'race:users:loaded is set at the start');
ok(wait_for(sub { grep { /unique index on users\.email/ }
    split /\n/, $t->read_file($log1) }), 'the unique index is made');

my ($u1, $u2, $u3) = map { new_id() } 1 .. 3;
my (@cmds, %req);

# a signup, an email that is not normalised, a replay, a taken email
my ($c, $r);
($c, $req{u1}) = signup($u1, 'ann@example.com', 'Ann');
push @cmds, $c;
($c, $req{u2}) = signup($u2, 'Bob@Example.COM', "Bob \x{e9}", reply =>
    $CHANNELS[1]);
push @cmds, $c;
push @cmds, $cmds[0];                           # the same message again
($c, $req{u3}) = signup($u3, 'ann@example.com', 'Ann Again');
push @cmds, $c;

$users{$u1} = { email => 'ann@example.com', name => 'Ann',
    role => 'spectator', gen => 1 };
$users{$u2} = { email => 'bob@example.com', name => "Bob \x{e9}",
    role => 'spectator', gen => 1 };

produce(@cmds);

my @r = replies($req{u1}, 2);
is(scalar @r, 2, 'a signup delivered twice: two replies');
ok_reply($r[0], $u1, 'signup');
ok_reply($r[1], $u1, 'signup delivered again');
is($r[0]{channel}, $CHANNELS[0], 'on the channel the command named');
unlike($r[0]{text}, qr/argon2id|hash/, 'no hash in a reply');
check_user($u1, 'signup');
is(mongo_count($json->encode({ _id => $u1 })), 1, 'stored once');
my $d = mongo_user($u1) || {};
is_deeply([sort keys %$d], [sort qw(_id email name role hash gen created)],
    'the document has the fields of INTERNALS.md');
is($d->{hash}, $HASH, 'the hash is stored as sent');

$r = reply($req{u2});
ok_reply($r, $u2, 'signup with an email to normalise');
is($r->{channel}, $CHANNELS[1], 'on its own channel');
check_user($u2, 'the normalised email');

$r = reply($req{u3});
is_deeply({ req => $r->{req}, ok => $r->{ok} ? 1 : 0, code => $r->{code} },
    { req => $req{u3}, ok => 0, code => 'email_taken' },
    'the same email under another id: email_taken');
is(mongo_user($u3), undef, 'not in MongoDB');
is(redis_user($u3), undef, 'not in Redis');
is(redis('GET', 'race:email:ann@example.com'), $u1,
    'the email still names the first user');
is(mongo_count('{"email":"ann@example.com"}'), 1, 'one user of that email');

###############################################################################
# logouts and role changes, each applied once

($c, my $lo1) = logout($u1, gen => 1);
produce($c);
$users{$u1}{gen} = 2;
ok_reply(reply($lo1), $u1, 'logout with gen 1');
check_user($u1, 'logout: gen 2');

produce($c);
@r = replies($lo1, 2);
ok_reply($r[1] || {}, $u1, 'the same logout again: still ok');
check_user($u1, 'the logout replayed: still gen 2');

($c, my $lo2) = logout($u1);
produce($c);
$users{$u1}{gen} = 3;
ok_reply(reply($lo2), $u1, 'logout without gen');
check_user($u1, 'gen 3');

($c, my $lo3) = logout(new_id(), gen => 1);
produce($c);
$r = reply($lo3);
is($r->{code}, 'no_user', 'logout of nobody: no_user') or diag($r->{text});
ok(!$r->{ok}, 'not ok');

# the admin makes u2 an organizer, expecting its gen 1
($c, my $ro1) = role($u2, 'organizer', $admin, gen => 1);
produce($c, $c);
$users{$u2}{role} = 'organizer';
$users{$u2}{gen} = 2;
@r = replies($ro1, 2);
ok_reply($r[0] || {}, $u2, 'role organizer by the admin');
ok_reply($r[1] || {}, $u2, 'the same role change again');
is(($r[0] || {})->{channel}, $CHANNELS[1], 'on its channel');
check_user($u2, 'organizer once: gen 2');

# without gen: only where the role is another one
($c, my $ro2) = role($u2, 'rider', $admin2);
produce($c, $c);
$users{$u2}{role} = 'rider';
$users{$u2}{gen} = 3;
@r = replies($ro2, 2);
ok_reply($r[0] || {}, $u2, 'role rider without gen');
ok_reply($r[1] || {}, $u2, 'again');
check_user($u2, 'rider once: gen 3');

($c, my $ro3) = role($u1, 'admin', $u2);
produce($c);
$r = reply($ro3);
is($r->{code}, 'bad_command', 'a role change by a non-admin is refused')
    or diag($r->{text});
check_user($u1, 'nothing changed');

($c, my $ro4) = role(new_id(), 'rider', $admin);
produce($c);
is(reply($ro4)->{code}, 'no_user', 'a role for nobody: no_user');

ok(grep({ /role of $u2 to organizer by $admin: ok/ }
    split /\n/, $t->read_file($log1)), 'role changes are logged');

###############################################################################
# bad commands: answered when they can be, skipped, and what follows is
# applied

my $ch = $CHANNELS[0];
my @bad = (
    ['k', 'not json at all'],
    ['k', ''],
    ['k', $json->encode({ op => 'signup', req => 'b0' })],
    ['k', $json->encode({ op => 'jump', req => 'b1', reply => $ch })],
    ['k', $json->encode({ op => 'logout', req => 'b2', reply => $ch,
        user => 'ZZ' })],
    ['k', $json->encode({ op => 'logout', req => 'b3', reply => $ch,
        user => $u1, gen => 'two' })],
    ['k', $json->encode({ op => 'role', req => 'b4', reply => $ch,
        user => $u1, role => 'king', by => $admin })],
    (signup(new_id(), 'no-at-sign', 'X', req => 'b5'))[0],
    (signup(new_id(), 'x@example.com', "X\nY", req => 'b6'))[0],
    (signup(new_id(), 'x@example.com', 'X', req => 'b7',
        user => { role => 'admin' }))[0],
    (signup(new_id(), 'x@example.com', 'X', req => 'b8',
        hash => 'plaintext'))[0],
    ['k', $json->encode({ op => 'signup', req => 'b9', reply => $ch,
        user => $u1 })],
    ['k', '{"op":"logout","req":"b10","reply":"' . $ch . '","user":"'
        . $u1 . '","user":"' . $u1 . '"}'],
);
my $u5 = new_id();
($c, $req{u5}) = signup($u5, 'dee@example.com', 'Dee');
$users{$u5} = { email => 'dee@example.com', name => 'Dee',
    role => 'spectator', gen => 1 };

my $before = committed_total();
produce(@bad, $c);

ok_reply(reply($req{u5}), $u5, 'a signup after the bad commands');
check_user($u5, 'after the bad commands');

for my $i (1 .. 9) {
    my $rb = reply("b$i", 5);
    is_deeply({ ok => $rb->{ok} ? 1 : 0, code => $rb->{code} },
        { ok => 0, code => 'bad_command' }, "bad command b$i: bad_command")
        or diag($rb->{text} // 'no reply');
}
is(scalar replies('b0', 1, 0.5), 0, 'no channel, no reply');
is(scalar replies('b10', 1, 0.1), 0, 'not JSON (a key twice), no reply');
ok(wait_for(sub { committed_total() == $produced }),
    'the offsets moved past the bad commands');
is(mongo_count('{"email":"x@example.com"}'), 0, 'none of them was stored');
is(mongo_user($u1)->{gen}, 3, 'nor changed a user');

my @warned = grep { /bad command / } split /\n/, $t->read_file($log1);
is(scalar @warned, scalar @bad, 'every bad command is logged')
    or diag(join "\n", @warned);

###############################################################################
# Redis comes back empty: every user is loaded again

my @all = @{mongo_ids()};
is(scalar @all, 5, 'five users in MongoDB');

Race::Engine::Redis::stop($t);
$t->redis;

ok(wait_for(sub { (redis('GET', 'race:users:loaded') // '') eq '1' }),
    'race:users:loaded is back');
for my $id (sort keys %users) {
    check_user($id, "reloaded user $id");
}
ok(grep({ /loaded 5 users into redis/ } split /\n/, $t->read_file($log1)),
    'the worker says how many it loaded');

# a reload that comes late never brings back an older gen
redis('HSET', "race:user:$u1", 'gen', 99);
redis('DEL', 'race:users:loaded');
ok(wait_for(sub { (redis('GET', 'race:users:loaded') // '') eq '1' }),
    'loaded again');
is(redis('HGET', "race:user:$u1", 'gen'), 99, 'a newer gen in Redis stays');
redis('HSET', "race:user:$u1", 'gen', 3);

subscribe();

# a command while Redis is down: applied when it is back
Race::Engine::Redis::stop($t);
my $done = committed_total();
($c, my $lo4) = logout($u5, gen => 1);
produce($c);
$users{$u5}{gen} = 2;
sleep 1.5;
is(committed_total(), $done, 'no offset is committed while Redis is down');
ok($t->running('accounts'), 'the worker keeps running');
$t->redis;
ok(wait_for(sub { ((redis_user($u5) || {})->{gen} // 0) == 2 }),
    'the logout reached Redis when it came back');
ok(wait_for(sub { (redis('GET', 'race:users:loaded') // '') eq '1' }),
    'and the users were loaded again');
check_user($_, "after the second restart: $_") for sort keys %users;
ok(wait_for(sub { committed_total() == $produced }),
    'then the offset is committed');
subscribe();

###############################################################################
# MongoDB down in the middle of a stream: nothing committed before it is
# applied, nothing lost

$done = committed_total();
Race::Engine::FerretDB::stop($t);

my (@outage, @oreq);
for my $i (1 .. 4) {
    my $id = new_id();
    ($c, my $q) = signup($id, "out$i\@example.com", "Out $i");
    push @outage, $c;
    push @oreq, [$q, $id];
    $users{$id} = { email => "out$i\@example.com", name => "Out $i",
        role => 'spectator', gen => 1 };
}
($c, my $lo5) = logout($u2, gen => 3);
push @outage, $c;
$users{$u2}{gen} = 4;
produce(@outage);

sleep 2;
is(committed_total(), $done, 'no offset is committed while MongoDB is down');
is(scalar replies($oreq[0][0], 1, 0.5), 0, 'and no reply goes out');
ok($t->running('accounts'), 'the worker keeps running');
ok(grep({ /was not applied, retrying/ } split /\n/, $t->read_file($log1)),
    'and says it is retrying');

is($t->ferretdb, $mongo, 'MongoDB is back');

for (@oreq) {
    ok_reply(reply($_->[0], 60), $_->[1], "signup $_->[1] after the outage");
    check_user($_->[1], "stored after the outage");
}
ok_reply(reply($lo5), $u2, 'the logout after the outage');
check_user($u2, 'gen 4 after the outage');
ok(wait_for(sub { committed_total() == $produced }),
    'the offsets are committed after the writes');
is_deeply(mongo_ids(), [sort keys %users], 'every user once, none lost');

###############################################################################
# an account made an admin from the command line; the end

($rc, $out, $err) = create_admin('Dee@example.com', 'Ignored', $pwfile);
is($rc, 0, '--create-admin of an existing account: exit 0') or diag($err);
is($out, "$u5\n", 'its id');
$users{$u5}{role} = 'admin';
$users{$u5}{gen} = 3;
check_user($u5, 'made an admin, a new gen, name unchanged');

my $text = $t->read_file($log1);
my @leaks = grep { /\@example\.|\$argon2id\$|\Q$PASSWORD\E/ }
    split /\n/, $text;
ok(!@leaks, 'no email, hash or password in the log')
    or diag(join "\n", @leaks);

is($t->stop('accounts'), 0, 'TERM: exit code 0');
my $stop = stopped($log1) || {};
like($stop->{line} // '', qr/stopped: /, 'stopped cleanly') or diag($text);
is($stop->{malformed}, scalar @bad, 'it counted the bad commands');

###############################################################################
# killed (SIGKILL) and started again: the new process takes the dead
# one's place in the group at once (a static member under the same
# instance id), instead of waiting for its session to time out and a
# rebalance: commands are answered again within 10 s, the bound the
# users were promised

subscribe();
my $log2 = start_accounts('accounts');
($c, my $lo6) = logout($u2, gen => 4);
produce($c);
$users{$u2}{gen} = 5;
ok_reply(reply($lo6, 60), $u2, 'a logout before the kill');

$t->stop('accounts', signal => 'KILL');
ok(!$t->running('accounts'), 'the worker is killed');

my $log3 = start_accounts('accounts');
my $restarted = time;
($c, my $lo7) = logout($u2, gen => 5);
produce($c);
$users{$u2}{gen} = 6;

# waited for up to 90 s, so that a slow one says how slow
my $r7 = reply($lo7, 90);
my $took = time - $restarted;
ok_reply($r7, $u2, 'a logout after the kill and the restart');
cmp_ok($took, '<', 10, sprintf('answered %.1f s after the restart, within '
    . '10 s', $took)) or diag($t->read_file($log3));
check_user($u2, 'gen 6 after the restart');

is($t->stop('accounts'), 0, 'TERM: exit code 0');

$t->done;
