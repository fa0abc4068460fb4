#!/usr/bin/perl

# Accounts: signup, login, me, logout and the admin's role grant, through
# nginx, Kafka, race-accounts, FerretDB and Redis.  Tokens that must not
# pass, bodies that must not be stored, and no secret in any log.

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use HTTP::Tiny;
use JSON::PP;
use POSIX ();
use MIME::Base64 qw(encode_base64url);
use Time::HiRes qw(time sleep);
use Race::Test;
use Race::Util;
use Race::Platform;
use Race::Token;
use Race::Engine::Redis;

my $t = Race::Test->new;
my $p = Race::Platform->start($t, accounts => 1, no_tracker => 1);
my $port = $p->port;
my $json = JSON::PP->new->canonical;
my $ua = HTTP::Tiny->new(timeout => 30);

sub call {
    my ($method, $path, %a) = @_;
    my ($st, $data, $res) = api_call($ua, $method,
        "http://127.0.0.1:$port$path", %a);
    return ($st, $data, $res);
}

my $password = 'correct horse battery staple ' . int(rand(1e9));
my %ann = (email => ' Ann.Rider@Example.ORG ', password => $password,
    name => 'Ann Rider');


# signup

my ($st, $d, $res) = call(POST => '/api/auth/signup', json => \%ann);
is($st, 201, 'signup: 201') or diag($res->{content});
is($d->{user}{email}, 'ann.rider@example.org', 'signup: email normalised');
is($d->{user}{role}, 'spectator', 'signup: a spectator');
ok(!exists $d->{user}{hash}, 'signup: no hash in the answer');
my $token = $d->{token};
like($token || '', qr/^[\w-]+\.[\w-]+\.[\w-]+$/, 'signup: a token');
my $cookie = $res->{headers}{'set-cookie'} || '';
like($cookie, qr/^race_session=\Q$token\E; Path=\/; Max-Age=900; HttpOnly; SameSite=Strict; Secure$/,
    'signup: a Secure, HttpOnly, SameSite cookie');
my $ann_id = $d->{user}{id};

($st, $d) = call(GET => '/api/me', token => $token);
is($st, 200, 'me with a bearer token');
is($d->{user}{id}, $ann_id, 'me: the same user');

($st, $d) = call(GET => '/api/me', cookie => "race_session=$token");
is($st, 200, 'me with the cookie');

($st, $d) = call(POST => '/api/auth/signup', json => { %ann,
    email => 'ANN.RIDER@example.org' });
is($st, 409, 'the same email again: 409');
is(error_code($d), 'email_taken', 'email_taken');

# two signups racing for one email: one wins
my @pids;
my $dir = $t->dir;
for my $i (1, 2) {
    my $pid = fork();
    if ($pid == 0) {
        my ($s) = call(POST => '/api/auth/signup', json => {
            email => 'twin@example.org', password => "$password $i",
            name => "Twin $i" });
        open my $fh, '>', "$dir/twin.$i";
        print $fh $s;
        close $fh;
        POSIX::_exit(0);
    }
    push @pids, $pid;
}
waitpid($_, 0) for @pids;
my @twins = sort map { $t->read_file("twin.$_") } 1, 2;
is("@twins", '201 409', 'racing signups: one 201, one 409');


# login

($st, $d, $res) = call(POST => '/api/auth/login',
    json => { email => 'ann.rider@example.org', password => $password });
is($st, 200, 'login: 200');
is($d->{user}{id}, $ann_id, 'login: the user');
my $token2 = $d->{token};

my ($st1, $d1) = call(POST => '/api/auth/login',
    json => { email => 'ann.rider@example.org', password => 'wrong password!' });
my ($st2, $d2) = call(POST => '/api/auth/login',
    json => { email => 'nobody@example.org', password => 'wrong password!' });
is("$st1 $st2", '401 401', 'wrong password and unknown email: 401');
is($json->encode($d1), $json->encode($d2), 'and the same answer for both');


# bad bodies: 400/413/415 with the error shape, nothing stored

my @bad = (
    [ 'malformed JSON', raw => '{"email":', 400, 'bad_json' ],
    [ 'not an object', raw => '[1]', 400, 'bad_json' ],
    [ 'email a number', json => { %ann, email => 5 }, 400, 'bad_json' ],
    [ 'no password', json => { email => 'x@example.org', name => 'X' },
      400, 'bad_json' ],
    [ 'not an email', json => { %ann, email => 'not-an-email' }, 400,
      'bad_json' ],
    [ 'short password', json => { %ann, email => 'b@example.org',
      password => 'short' }, 400, 'weak_password' ],
    [ 'common password', json => { %ann, email => 'c@example.org',
      password => 'iloveyou' }, 400, 'weak_password' ],
    [ 'oversized body', raw => '{"email":"' . ('x' x 20000) . '"}', 413,
      'too_large' ],
);

for my $b (@bad) {
    my ($name, $kind, $body, $want, $code) = @$b;
    my ($s, $dd) = call(POST => '/api/auth/signup', $kind => $body,
        headers => { 'Content-Type' => 'application/json' });
    is($s, $want, "$name: $want");
    is(error_code($dd), $code, "$name: $code");
}

($st, $d) = call(POST => '/api/auth/signup', raw => 'email=a',
    headers => { 'Content-Type' => 'application/x-www-form-urlencoded' });
is($st, 415, 'a form body: 415');
($st) = call(GET => '/api/auth/signup');
is($st, 405, 'GET on signup: 405');
($st, $d) = call(GET => '/api/nothing');
is($st, 404, 'unknown endpoint: 404 with the error shape')
    and is(error_code($d), 'not_found', 'not_found');

is($p->mongo_count_in('users', '{"email":{"$in":["b@example.org",'
    . '"c@example.org","x@example.org"]}}'), 0, 'nothing stored for them');


# tokens that must not pass

my $secret = $p->secret;
my %claims = (secret => $secret, aud => 'api', rider => $ann_id);

sub api_token {
    my (%a) = @_;
    my $now = time;
    my $payload = $json->encode({ iss => $a{iss} || 'ngx_race',
        aud => $a{aud} || 'api', sub => $ann_id, role => 'spectator',
        gen => $a{gen} || 1, iat => int($now),
        exp => int($a{exp} || $now + 600),
        $a{nbf} ? (nbf => int($a{nbf})) : () });
    return Race::Token::mint(secret => $a{secret} || $secret,
        kid => $a{kid} || 'k1', payload => $payload,
        exists $a{alg} ? (alg => $a{alg}) : (),
        exists $a{sig} ? (sig => $a{sig}) : ());
}

ok((call(GET => '/api/me', token => api_token()))[0] == 200,
    'a well-made token passes (the vectors below differ in one thing)');

my %vectors = (
    'alg none'        => api_token(alg => 'none', sig => ''),
    'wrong key'       => api_token(secret => 'y' x 48),
    'expired'         => api_token(exp => time - 60),
    'not yet valid'   => api_token(nbf => time + 3600),
    'wrong audience'  => api_token(aud => 'ride'),
    'unknown key id'  => api_token(kid => 'k7'),
    'old generation'  => api_token(gen => 7),
);

my $tampered = api_token();
my ($h, $pl, $sg) = split /\./, $tampered;
$pl = encode_base64url($json->encode({ %{ $json->decode(
    MIME::Base64::decode_base64url($pl)) }, role => 'admin' }));
$vectors{'tampered payload'} = "$h.$pl.$sg";

for my $name (sort keys %vectors) {
    my ($s, $dd) = call(GET => '/api/me', token => $vectors{$name});
    is($s, 401, "$name: 401");
}


# logout revokes

($st, $d, $res) = call(POST => '/api/auth/logout', token => $token2,
    json => {});
is($st, 204, 'logout: 204');
like($res->{headers}{'set-cookie'} || '', qr/^race_session=; .*Max-Age=0/,
    'logout: the cookie is cleared');
($st, $d) = call(GET => '/api/me', token => $token2);
is($st, 401, 'a token after logout: 401');
is(error_code($d), 'token_revoked', 'token_revoked');
($st) = call(GET => '/api/me', token => $token);
is($st, 401, 'and every other token of the user');


# roles: an admin grants, nobody else can

my $admin_pw = "admin pass phrase " . int(rand(1e9));
my $pwfile = $t->write_file('admin.pw', "$admin_pw\n");
chmod 0600, $pwfile;
my $argv = $p->accounts_argv('--create-admin', 'Boss@Example.org',
    '--name', 'Boss', '--password-file', $pwfile);
my $out = `@$argv 2>&1`;
is($? >> 8, 0, 'race-accounts --create-admin') or diag($out);
unlike($out, qr/\Q$admin_pw\E/, 'it never prints the password');

($st, $d) = call(POST => '/api/auth/login',
    json => { email => 'boss@example.org', password => $admin_pw });
is($st, 200, 'the admin logs in');
my $admin = $d->{token};

($st, $d) = call(POST => '/api/auth/login',
    json => { email => 'ann.rider@example.org', password => $password });
my $ann = $d->{token};

($st, $d) = call(POST => "/api/admin/users/$ann_id/role", token => $ann,
    json => { role => 'admin' });
is($st, 403, 'a spectator cannot grant roles');

($st, $d) = call(POST => "/api/admin/users/$ann_id/role", token => $admin,
    json => { role => 'wizard' });
is($st, 400, 'an unknown role: 400');

($st, $d) = call(POST => "/api/admin/users/$ann_id/role", token => $admin,
    json => { role => 'organizer' });
is($st, 200, 'the admin makes Ann an organizer');
is($d->{user}{role}, 'organizer', 'she is one');

($st) = call(GET => '/api/me', token => $ann);
is($st, 401, 'a role change ends her older sessions');

($st, $d) = call(POST => '/api/auth/login',
    json => { email => 'ann.rider@example.org', password => $password });
($st, $d) = call(GET => '/api/me', token => $d->{token});
is($d->{user}{role}, 'organizer', 'logged in again: organizer');

($st) = call(POST => '/api/admin/users/nosuchuser/role', token => $admin,
    json => { role => 'rider' });
is($st, 404, 'granting to a malformed user id: 404');
($st, $d) = call(POST => '/api/admin/users/' . ('0' x 32) . '/role',
    token => $admin, json => { role => 'rider' });
is($st, 404, 'granting to a user nobody has: 404 from race-accounts');
is(error_code($d), 'no_user', 'no_user');


# an acknowledged account survives a Redis restart

Race::Engine::Redis::stop($t);
$t->redis;

my $end = time + 30;
($st) = (0);
while (time < $end) {
    ($st) = call(POST => '/api/auth/login',
        json => { email => 'ann.rider@example.org', password => $password });
    last if $st == 200;
    sleep 0.5;
}
is($st, 200, 'after Redis came back empty, the account is still there');


# nothing secret in a log

$t->stop_nginx;
my $logs = join '', map { $t->read_file($_) }
    grep { -f } glob($t->dir . '/*.log'), $t->dir . '/nginx.out';
for my $secret ([password => $password], [admin => $admin_pw],
    [token => $token], [hash => '$argon2id$'])
{
    unlike($logs, qr/\Q$secret->[1]\E/, "no $secret->[0] in any log");
}

$t->done;
