#!/usr/bin/perl

# Who may call what: every endpoint as every kind of caller, from one
# table.  The table is the README's role table, checked: signup and login
# are open to anyone, logout and me need a login, only an admin grants
# roles, /ride takes rider tokens only, /live is public; races: anyone
# reads public ones, organizers and admins create, only a race's owner
# or an admin changes it, a private race is not found by anyone else
# but a spectator link of it, which reads it and nothing more.  A logout
# ends every token its user had, whatever the role.

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
use Race::RESP;

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
#   other org    an organizer who did not create the races tried
#   ride token   a rider token (aud "ride") for rider p1 in race r1
#   link         a spectator link (aud "live") of the private race
#   logged out   the access token of a spectator, rider, organizer and
#                admin (each is tried) after its user logged out

my @callers = ('anonymous', 'spectator', 'rider', 'organizer', 'other org',
    'admin', 'ride token', 'link', 'logged out');

# The races: the organizer created them ("organizer" is their owner);
# {pub} is public, {priv} private, which only its owner and admins see
# (404 to the rest, who are not told it exists).

my @table = (
  # endpoint
  #     anon spec ridr orgn othr admn ride link  out
  [ 'POST /api/auth/signup',
        201, 201, 201, 201, 201, 201, 201, 201, 201 ],
  [ 'POST /api/auth/login',
        200, 200, 200, 200, 200, 200, 200, 200, 200 ],
  [ 'GET /api/me',
        401, 200, 200, 200, 200, 200, 401, 401, 401 ],
  [ 'POST /api/admin/users/{id}/role',
        401, 403, 403, 403, 403, 200, 401, 401, 401 ],
  [ 'GET /ride',
        401, 401, 401, 401, 401, 401, 101, 401, 401 ],
  [ 'GET /live/r1',
        101, 101, 101, 101, 101, 101, 101, 101, 101 ],
  [ 'POST /api/races',
        401, 403, 403, 201, 201, 201, 401, 401, 401 ],
  [ 'GET /api/races?status=scheduled',
        200, 200, 200, 200, 200, 200, 401, 401, 401 ],
  [ 'GET /api/races?mine=1',
        401, 200, 200, 200, 200, 200, 401, 401, 401 ],
  [ 'GET /api/races/{pub}',
        200, 200, 200, 200, 200, 200, 401, 401, 401 ],
  [ 'GET /api/races/{priv}',
        404, 404, 404, 200, 404, 200, 401, 200, 401 ],
  [ 'GET /api/races/{pub}/course',
        200, 200, 200, 200, 200, 200, 401, 401, 401 ],
  [ 'GET /api/races/{priv}/course',
        404, 404, 404, 200, 404, 200, 401, 200, 401 ],
  [ 'PATCH /api/races/{pub}',
        401, 403, 403, 200, 403, 200, 401, 401, 401 ],
  [ 'PATCH /api/races/{priv}',
        401, 404, 404, 200, 404, 200, 401, 401, 401 ],
  [ 'POST /api/races/{pub}/riders',
        401, 403, 403, 201, 403, 201, 401, 401, 401 ],
  [ 'PATCH /api/races/{pub}/riders/{rider}',
        401, 403, 403, 200, 403, 200, 401, 401, 401 ],
  [ 'DELETE /api/races/{pub}/riders/{rider}',
        401, 403, 403, 204, 403, 204, 401, 401, 401 ],
  [ 'POST /api/races/{priv}/links',
        401, 404, 404, 201, 404, 201, 401, 401, 401 ],
  [ 'DELETE /api/races/{priv}/links/{jti}',
        401, 404, 404, 204, 404, 204, 401, 401, 401 ],
  [ 'POST /api/races/{new}/start',
        401, 403, 403, 200, 403, 200, 401, 401, 401 ],
  [ 'POST /api/races/{live}/finish',
        401, 403, 403, 200, 403, 200, 401, 401, 401 ],
  [ 'GET /api/races/{pub}/results',
        200, 200, 200, 200, 200, 200, 401, 401, 401 ],
  [ 'GET /api/races/{priv}/results',
        404, 404, 404, 200, 404, 200, 401, 200, 401 ],
  [ 'GET /api/races/{priv}/results.csv',
        404, 404, 404, 200, 404, 200, 401, 200, 401 ],
  [ 'GET /api/races/{priv}/riders/{rider}/track.gpx',
        404, 404, 404, 200, 404, 200, 401, 200, 401 ],
  [ 'GET /api/me/results',
        401, 200, 200, 200, 200, 200, 401, 401, 401 ],
  # last: a logout ends the caller's session, the column "logged out"
  [ 'POST /api/auth/logout',
        401, 204, 204, 204, 204, 204, 401, 401, 401 ],
);


sub call {
    my ($method, $path, %a) = @_;
    my ($st, $data, $res) = api_call($ua, $method,
        "http://127.0.0.1:$port$path", %a);
    return ($st, $data, $res);
}

my $n = 0;

sub signup { api_signup(\&call, @_) }
sub login { api_login(\&call, @_) }


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
    'other org' => signup('Other'),
);
$user{admin}{token} = login($user{admin});

# the admin grants; a role change ends older sessions: log in again
for my $who ('rider', 'organizer', 'other org') {
    my $role = $who eq 'other org' ? 'organizer' : $who;
    my ($st, $d) = call(POST => "/api/admin/users/$user{$who}{id}/role",
        token => $user{admin}{token}, json => { role => $role });
    is($st, 200, "the admin grants $role")
        and is($d->{user}{role}, $role, "the user's role is now $role");
    $user{$who}{token} = login($user{$who});
}

for my $role ('spectator', 'rider', 'organizer', 'admin') {
    my ($st, $d) = call(GET => '/api/me', token => $user{$role}{token});
    is($d->{user}{role}, $role, "me with the $role token: role $role")
        or diag("$st " . $json->encode($d));
}

my %token = (
    anonymous => undef,
    (map { $_ => $user{$_}{token} } 'spectator', 'rider', 'organizer',
        'other org', 'admin'),
    'ride token' => Race::Token::mint(secret => $p->secret, kid => 'k1',
        race => 'r1', rider => 'p1'),
);

# what the endpoints act on: a user whose role the grants change, one
# whose password the logins give
my $target = signup('Target');
my $walker = signup('Walker');


# the races, made by the organizer with a session of its own

my $setup = login($user{organizer});
my $bib = 0;

my $gpx = qq{<?xml version="1.0"?><gpx version="1.1" creator="t" }
    . qq{xmlns="http://www.topografix.com/GPX/1/1"><rte>}
    . join('', map { sprintf('<rtept lat="%.5f" lon="7.6"/>', 45 + $_ / 1000) }
        0 .. 9)
    . '</rte></gpx>';

sub race {
    my (%a) = @_;
    my ($st, $d, $res) = call(POST => '/api/races', token => $setup,
        json => { name => 'Authz', start_at => now_ms() + 3600_000,
            public => JSON::PP::true, course => $gpx, %a });
    die "a race: $st $res->{content}\n" unless $st == 201;
    return $d->{race}{id};
}

sub rider {
    my ($race) = @_;
    my ($st, $d, $res) = call(POST => "/api/races/$race/riders",
        token => $setup, json => { name => 'Rider', bib => 'b' . ++$bib });
    die "a rider: $st $res->{content}\n" unless $st == 201;
    return $d->{rider}{id};
}

sub new_link {
    my ($race) = @_;
    my ($st, $d, $res) = call(POST => "/api/races/$race/links",
        token => $setup, json => {});
    die "a link: $st $res->{content}\n" unless $st == 201;
    return $d->{link}{jti};
}

my $pub = race();
my $priv = race(public => JSON::PP::false);

my $priv_rider = rider($priv);

# results as race-tracker writes them when a race finishes
for my $r ($pub, $priv) {
    Race::RESP::resp_command($p->{redis_port}, 'SET',
        "race:race:$r:results", '{"race":"' . $r . '","riders":[]}');
    Race::RESP::resp_command($p->{redis_port}, 'SET',
        "race:race:$r:results.csv", "rank,rider\r\n");
}

my ($st, $d) = call(POST => "/api/races/$priv/links", token => $setup,
    json => { ttl_s => 3600 });
is($st, 201, 'a link of the private race');
$token{link} = $d->{token};


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
    'POST /api/races' => sub {
        return (call(POST => '/api/races', token => $_[0],
            json => { name => 'Mine', start_at => now_ms() + 3600_000,
                public => JSON::PP::true, course => $gpx }))[0];
    },
    'GET /api/races?status=scheduled' => sub {
        return (call(GET => '/api/races?status=scheduled',
            token => $_[0]))[0];
    },
    'GET /api/races?mine=1' => sub {
        return (call(GET => '/api/races?mine=1', token => $_[0]))[0];
    },
    (map { my $r = $_; my $id = sub { $r eq 'pub' ? $pub : $priv }; (
        "GET /api/races/{$r}" => sub {
            return (call(GET => '/api/races/' . $id->(),
                token => $_[0]))[0];
        },
        "GET /api/races/{$r}/course" => sub {
            return (call(GET => '/api/races/' . $id->() . '/course',
                token => $_[0]))[0];
        },
        "PATCH /api/races/{$r}" => sub {
            return (call(PATCH => '/api/races/' . $id->(),
                token => $_[0], json => { name => 'Renamed' }))[0];
        }) } 'pub', 'priv'),
    'POST /api/races/{pub}/riders' => sub {
        return (call(POST => "/api/races/$pub/riders", token => $_[0],
            json => { name => 'New', bib => 'n' . ++$bib }))[0];
    },
    'PATCH /api/races/{pub}/riders/{rider}' => sub {
        my $r = rider($pub);
        return (call(PATCH => "/api/races/$pub/riders/$r", token => $_[0],
            json => { status => 'dnf' }))[0];
    },
    'DELETE /api/races/{pub}/riders/{rider}' => sub {
        my $r = rider($pub);
        return (call(DELETE => "/api/races/$pub/riders/$r",
            token => $_[0]))[0];
    },
    'POST /api/races/{priv}/links' => sub {
        return (call(POST => "/api/races/$priv/links", token => $_[0],
            json => { ttl_s => 600 }))[0];
    },
    'DELETE /api/races/{priv}/links/{jti}' => sub {
        my $j = new_link($priv);
        return (call(DELETE => "/api/races/$priv/links/$j",
            token => $_[0]))[0];
    },
    'POST /api/races/{new}/start' => sub {
        my $r = race();
        return (call(POST => "/api/races/$r/start", token => $_[0],
            json => {}))[0];
    },
    'GET /api/races/{pub}/results' => sub {
        return (call(GET => "/api/races/$pub/results", token => $_[0]))[0];
    },
    'GET /api/races/{priv}/results' => sub {
        return (call(GET => "/api/races/$priv/results", token => $_[0]))[0];
    },
    'GET /api/races/{priv}/results.csv' => sub {
        return (call(GET => "/api/races/$priv/results.csv",
            token => $_[0]))[0];
    },
    'GET /api/races/{priv}/riders/{rider}/track.gpx' => sub {
        return (call(GET => "/api/races/$priv/riders/$priv_rider/track.gpx",
            token => $_[0]))[0];
    },
    'GET /api/me/results' => sub {
        return (call(GET => '/api/me/results', token => $_[0]))[0];
    },
    'POST /api/races/{live}/finish' => sub {
        my $r = race();
        my ($st) = call(POST => "/api/races/$r/start", token => $setup,
            json => {});
        die "a start: $st\n" unless $st == 200;
        return (call(POST => "/api/races/$r/finish", token => $_[0],
            json => {}))[0];
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

# every role's token, now that its user logged out; the races' rows
# make riders, links and races with a session of the organizer's that
# began after its logout

$setup = login($user{organizer});

for my $row (@table) {
    my $endpoint = $row->[0];
    my $want = $row->[$col{'logged out'}];

    for my $role ('spectator', 'rider', 'organizer', 'other org', 'admin') {
        is($request{$endpoint}->($token{$role}), $want,
            "$endpoint as $role, logged out: $want");
    }
}

$t->done;
