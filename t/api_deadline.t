#!/usr/bin/perl

# A 503 means not applied.  race-accounts is stopped (SIGSTOP) while a
# signup waits for it: the client gets 503 when race_auth_reply_timeout
# ends.  When the worker resumes it finds the command past its deadline
# and drops it, so the account the client was told failed never appears
# behind its back: no login, no user in MongoDB, the email still free.

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use HTTP::Tiny;
use JSON::PP;
use Time::HiRes qw(time sleep);
use Race::Test;
use Race::Util;
use Race::Platform;

my $t = Race::Test->new;
my $p = Race::Platform->start($t, accounts => 1, no_tracker => 1,
    http => 'race_auth_reply_timeout 1s;');
my $port = $p->port;
my $json = JSON::PP->new->canonical;
my $ua = HTTP::Tiny->new(timeout => 10);

# status, body and the seconds it took
sub call {
    my ($method, $path, $body) = @_;
    my ($st, $data, undef, $elapsed) = api_call($ua, $method,
        "http://127.0.0.1:$port$path", json => $body);
    return ($st, $data, $elapsed);
}

sub user {
    my ($name) = @_;
    return { email => "$name\@example.org", name => ucfirst $name,
        password => "correct horse battery staple $name" };
}

sub users_with {
    my ($email) = @_;
    return $p->mongo_count_in('users', qq({"email":"$email"}));
}


# the worker takes commands (its group may take a while to form; each
# try has an email of its own, so a late one cannot get in the way)

my $n = 0;
my $up = wait_for(sub {
    my ($st) = call(POST => '/api/auth/signup', user('warm' . ++$n));
    return $st == 201;
}, 90);
ok($up, "race-accounts answers (after $n signups)");


# the worker stops: the signup times out

my $accounts = $t->pid('accounts');
kill 'STOP', $accounts;
my $stopped = 1;
END { kill 'CONT', $accounts if $stopped && $accounts }

my $bob = user('bob');
my ($st, $d, $dt) = call(POST => '/api/auth/signup', $bob);
is($st, 503, 'signup while race-accounts is stopped: 503');
is(error_code($d), 'unavailable', 'in the error shape');
cmp_ok($dt, '>=', 0.9, sprintf('after the reply timeout (%.1fs)', $dt));

# the deadline passes for sure before the worker looks at the command
sleep 0.5;

kill 'CONT', $accounts;
$stopped = 0;


# the worker resumes: the command is dropped, not applied

my $log = $t->dir . '/accounts.1.log';
ok(wait_for(sub { $t->read_file($log) =~ /expired \d+ ms ago: not applied/
        || users_with($bob->{email}) ne '0' }, 30),
    'race-accounts dealt with the command');
like($t->read_file($log), qr/signup of [0-9a-f]{32}, request \d+, expired/,
    'the drop is logged, by user id');
unlike($t->read_file($log), qr/bob\@example/, 'and no email in the log');

is(users_with($bob->{email}), 0, 'MongoDB has no such user');

($st, $d) = call(POST => '/api/auth/login',
    { email => $bob->{email}, password => $bob->{password} });
is($st, 401, 'the signup that got 503 cannot log in');
is(error_code($d), 'invalid_credentials', 'invalid_credentials');

# the email is free: signing up again works, once
($st, $d) = call(POST => '/api/auth/signup', $bob);
is($st, 201, 'signing up again: 201');
is(users_with($bob->{email}), 1, 'one user in MongoDB');

($st, $d) = call(POST => '/api/auth/login',
    { email => $bob->{email}, password => $bob->{password} });
is($st, 200, 'and it logs in');

# the count of dropped commands, reported when the worker stops
$t->stop('accounts');
like($t->read_file($log), qr/, [1-9]\d* expired,/,
    'the expired commands are counted');

$t->done;
