#!/usr/bin/perl

# The harness brings up a MongoDB-protocol server (FerretDB on SQLite) and
# mongo-c-driver does against it what the workers rely on: inserts with
# deterministic _ids, duplicate key error 11000 on replays, unordered batches
# that store what is new.  The data survives a restart, and the check that
# says so fails when the data is gone.

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use Race::Test;
use Race::Engine::FerretDB;
use POSIX ();

my $t = Race::Test->new;

my $smoke = $t->build . '/t/mongo_smoke';
die "$smoke not built (run ./build.sh)\n" unless -x $smoke;

my $uri = $t->ferretdb;
like($uri, qr{^mongodb://127\.0\.0\.1:\d+/$}, 'ferretdb on loopback');
my $port = $t->{ferretdb}{port};
my $data = $t->{ferretdb}{dir};

# a stopped server must fail fast, not hang the test
my $fast = "${uri}?serverSelectionTimeoutMS=2000";

sub smoke {
    my (@args) = @_;

    my $out = `"$smoke" @args 2>&1`;
    my $rc = $? >> 8;
    note($out);
    return ($rc, $out);
}

my ($rc, $out) = smoke($uri, 'write');
is($rc, 0, 'smoke write: every check passed') or diag($out);
like($out, qr/^pass: insert_one \S+ again: duplicate key 11000/m,
    'a replayed _id is a duplicate key error');
like($out, qr/^pass: insert_many \(unordered\): inserted 2 of 4$/m,
    'an unordered batch stores the new documents among replays');
like($out, qr/^pass: find sorted by _id: 8 documents/m, 'documents found back');
my @files = glob("$data/*.sqlite");
ok(@files > 0, 'data is in the test folder');

Race::Engine::FerretDB::stop($t);
ok(!Race::Engine::FerretDB::ping($port), 'ferretdb stopped');

($rc, $out) = smoke($fast, 'check');
isnt($rc, 0, 'check fails with the server stopped');

# without the data, the check must fail
rename($data, "$data.saved") or die "rename $data: $!\n";
$t->ferretdb;
($rc, $out) = smoke($fast, 'check');
isnt($rc, 0, 'check fails on an empty server');
like($out, qr/^FAIL: count_documents \(all\): 0, want 8$/m,
    'and says the documents are missing');
Race::Engine::FerretDB::stop($t);

system('rm', '-rf', '--', $data) == 0 or die "rm $data failed\n";
rename("$data.saved", $data) or die "rename $data.saved: $!\n";

is($t->ferretdb, $uri, 'ferretdb restarted on the same port');
($rc, $out) = smoke($fast, 'check');
is($rc, 0, 'data survived the restart') or diag($out);

# A program the tests kill leaves libmongoc's counters file
# (/dev/shm/mongoc-PID) behind; a later program given the same id must
# not print a warning into the output a test reads.  The child makes
# the stale file for its own id, then becomes the program.
my $stale;
my $pid = fork // die "fork: $!\n";
if ($pid == 0) {
    open(my $fh, '>', "/dev/shm/mongoc-$$") or POSIX::_exit(111);
    close $fh;
    open(STDOUT, '>', $t->dir . '/stale.out') or POSIX::_exit(112);
    open(STDERR, '>&', \*STDOUT) or POSIX::_exit(113);
    exec($smoke, $fast, 'check') or POSIX::_exit(114);
}
waitpid($pid, 0);
$rc = $? >> 8;
unlink("/dev/shm/mongoc-$pid");
$out = $t->read_file('stale.out') // '';
is($rc, 0, 'a program with a stale counters file works') or diag($out);
unlike($out, qr/counters/, 'and prints nothing about its counters');

$t->done;
