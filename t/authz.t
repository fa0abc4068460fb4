#!/usr/bin/perl

# Who may call what: every endpoint as every kind of caller, from one
# table.  The table is the README's role table, checked: signup and login
# are open to anyone, logout and me need a login, only an admin grants
# roles, /ride takes rider tokens only, /live is public.  A logout ends
# every token its user had, whatever the role.

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use HTTP::Tiny;
use JSON::PP;
use Race::Test;
use Race::Util;
use Race::Platform;
use Race::Token;
use Race::WS;

my $t = Race::Test->new;
my $p = Race::Platform->start($t, accounts => 1, no_tracker => 1);
my $port = $p->port;
my $json = JSON::PP->new->canonical;
my $ua = HTTP::Tiny->new(timeout => 30);


# Expected status of each endpoint for each caller.  The callers:
#   anonymous    no token at all
#   spectator,   an access token of a user with that role (signup makes
#   rider,       spectators; the admin grants the other roles)
#   organizer,
#   admin
#   ride token   a rider token (aud "ride") for rider p1 in race r1
#   logged out   the access token of a spectator, rider, organizer and
#                admin (each is tried) after its user logged out

my @callers = ('anonymous', 'spectator', 'rider', 'organizer', 'admin',
    'ride token', 'logged out');

my @table = (
  # endpoint                           anon spec ridr orgn admn ride  out
  [ 'POST /api/auth/signup',            201, 201, 201, 201, 201, 201, 201 ],
  [ 'POST /api/auth/login',             200, 200, 200, 200, 200, 200, 200 ],
  [ 'GET /api/me',                      401, 200, 200, 200, 200, 401, 401 ],
  [ 'POST /api/admin/users/{id}/role',  401, 403, 403, 403, 200, 401, 401 ],
  [ 'GET /ride',                        401, 401, 401, 401, 401, 101, 401 ],
  [ 'GET /live/r1',                     101, 101, 101, 101, 101, 101, 101 ],
  # last: a logout ends the caller's session, the column "logged out"
  [ 'POST /api/auth/logout',            401, 204, 204, 204, 204, 401, 401 ],
);


sub call {
    my ($method, $path, %a) = @_;
    my ($st, $data, $res) = api_call($ua, $method,
        "http://127.0.0.1:$port$path", %a);
    return ($st, $data, $res);
}

my $n = 0;

sub signup {
    my ($name) = @_;
    my %u = (email => lc($name) . '.' . ++$n . '@example.org',
        password => "a long pass phrase for $name " . int(rand(1e9)),
        name => $name);
    my ($st, $d, $res) = call(POST => '/api/auth/signup', json => \%u);
    die "signup of $name: $st $res->{content}\n" unless $st == 201;
    return { %u, id => $d->{user}{id}, token => $d->{token} };
}

sub login {
    my ($u) = @_;
    my ($st, $d, $res) = call(POST => '/api/auth/login',
        json => { email => $u->{email}, password => $u->{password} });
    die "login of $u->{email}: $st $res->{content}\n" unless $st == 200;
    return $d->{token};
}


# the callers

my $admin_pw = 'admin pass phrase ' . int(rand(1e9));
my $pwfile = $t->write_file('admin.pw', "$admin_pw\n");
chmod 0600, $pwfile;
my $argv = $p->accounts_argv('--create-admin', 'boss@example.org',
    '--name', 'Boss', '--password-file', $pwfile);
my $out = `@$argv 2>&1`;
is($? >> 8, 0, 'race-accounts --create-admin') or diag($out);

my %user = (
    admin => { email => 'boss@example.org', password => $admin_pw },
    spectator => signup('Spectator'),
    rider => signup('Rider'),
    organizer => signup('Organizer'),
);
$user{admin}{token} = login($user{admin});

# the admin grants; a role change ends older sessions: log in again
for my $role ('rider', 'organizer') {
    my ($st, $d) = call(POST => "/api/admin/users/$user{$role}{id}/role",
        token => $user{admin}{token}, json => { role => $role });
    is($st, 200, "the admin grants $role")
        and is($d->{user}{role}, $role, "the user's role is now $role");
    $user{$role}{token} = login($user{$role});
}

for my $role ('spectator', 'rider', 'organizer', 'admin') {
    my ($st, $d) = call(GET => '/api/me', token => $user{$role}{token});
    is($d->{user}{role}, $role, "me with the $role token: role $role")
        or diag("$st " . $json->encode($d));
}

my %token = (
    anonymous => undef,
    (map { $_ => $user{$_}{token} } qw(spectator rider organizer admin)),
    'ride token' => Race::Token::mint(secret => $p->secret, kid => 'k1',
        race => 'r1', rider => 'p1'),
);

# what the endpoints act on: a user whose role the grants change, one
# whose password the logins give
my $target = signup('Target');
my $walker = signup('Walker');


# how each endpoint is called, with a valid body, as the caller of token

my %request = (
    'POST /api/auth/signup' => sub {
        my $u = { email => 'new.' . ++$n . '@example.org',
            password => 'a long enough pass phrase', name => 'New' };
        return (call(POST => '/api/auth/signup', token => $_[0],
            json => $u))[0];
    },
    'POST /api/auth/login' => sub {
        return (call(POST => '/api/auth/login', token => $_[0],
            json => { email => $walker->{email},
                password => $walker->{password} }))[0];
    },
    'GET /api/me' => sub {
        return (call(GET => '/api/me', token => $_[0]))[0];
    },
    'POST /api/admin/users/{id}/role' => sub {
        return (call(POST => "/api/admin/users/$target->{id}/role",
            token => $_[0], json => { role => 'rider' }))[0];
    },
    'GET /ride' => sub { ws('/ride', $_[0]) },
    'GET /live/r1' => sub { ws('/live/r1', $_[0]) },
    'POST /api/auth/logout' => sub {
        return (call(POST => '/api/auth/logout', token => $_[0],
            json => {}))[0];
    },
);

sub ws {
    my ($path, $tok) = @_;
    my $ws = Race::WS->new(port => $port);
    my $res = $ws->handshake(path => $path,
        headers => [ $tok ? (Authorization => "Bearer $tok") : () ]);
    $ws->disconnect;
    return $res ? $res->{status} : 'no answer';
}

is(scalar(keys %request), scalar(@table), 'every endpoint has a request');


# the table, cell by cell; the logout row comes last

my @live = grep { $_ ne 'logged out' } @callers;
my %col = map { $callers[$_] => $_ + 1 } 0 .. $#callers;

for my $row (@table) {
    my $endpoint = $row->[0];

    for my $caller (@live) {
        my $want = $row->[$col{$caller}];
        is($request{$endpoint}->($token{$caller}), $want,
            "$endpoint as $caller: $want");
    }
}

# every role's token, now that its user logged out

for my $row (@table) {
    my $endpoint = $row->[0];
    my $want = $row->[$col{'logged out'}];

    for my $role ('spectator', 'rider', 'organizer', 'admin') {
        is($request{$endpoint}->($token{$role}), $want,
            "$endpoint as $role, logged out: $want");
    }
}

$t->done;
