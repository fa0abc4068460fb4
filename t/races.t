#!/usr/bin/perl

# Races through the API, what the module decides before race-accounts
# is asked: every bad course gets a 400 bad_course naming what is wrong
# (not XML, no points, out of range, too many points, an external
# entity, laps on an open course), every bad body a 400 bad_json naming
# the field, too large a body 413, and a caller who may not create 401
# or 403; then nothing went to Kafka and nothing is in Redis.  (The
# flows race-accounts applies come with its race commands.)

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
use Race::Engine::Redis;

my $t = Race::Test->new;
my $p = Race::Platform->start($t, accounts => 1, no_tracker => 1,
    http => <<'EOF');
    client_max_body_size 8m;
    client_body_buffer_size 4m;
    race_api_course_max_size 4m;
EOF
my $port = $p->port;
my $redis_port = $p->{redis_port};
my $json = JSON::PP->new->canonical;
my $ua = HTTP::Tiny->new(timeout => 60);

sub call {
    my ($method, $path, %a) = @_;
    my ($st, $data, $res) = api_call($ua, $method,
        "http://127.0.0.1:$port$path", %a);
    return ($st, $data, $res);
}

sub redis { Race::Engine::Redis::command($redis_port, @_) }

# the race commands race-accounts' topic holds
sub race_commands {
    my $out = `$ENV{RACE_BUILD}/t/kafka_dump $p->{kafka} race.accounts 2>&1`;
    return scalar(grep { /"op":"race_/ } split /\n/, $out);
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


# an admin, an organizer and a spectator

my $admin_pw = 'admin pass phrase ' . int(rand(1e9));
my $pwfile = $t->write_file('admin.pw', "$admin_pw\n");
chmod 0600, $pwfile;
my $argv = $p->accounts_argv('--create-admin', 'boss@example.org',
    '--name', 'Boss', '--password-file', $pwfile);
my $out = `@$argv 2>&1`;
is($? >> 8, 0, 'race-accounts --create-admin') or diag($out);

my $admin = { email => 'boss@example.org', password => $admin_pw };
$admin->{token} = login($admin);

my $org = signup('Olga');
my ($st, $d) = call(POST => "/api/admin/users/$org->{id}/role",
    token => $admin->{token}, json => { role => 'organizer' });
is($st, 200, 'the admin makes Olga an organizer');
$org->{token} = login($org);

my $spec = signup('Sam');


# courses: a GPX track of 3 km, a loop, and the same line as GeoJSON

sub gpx {
    my (@pts) = @_;
    my $x = qq{<?xml version="1.0" encoding="UTF-8"?>\n}
        . qq{<gpx version="1.1" creator="t" }
        . qq{xmlns="http://www.topografix.com/GPX/1/1">}
        . "<trk><name>t</name><trkseg>\n";
    $x .= sprintf(qq{<trkpt lat="%.6f" lon="%.6f"><ele>%.1f</ele></trkpt>\n},
        @$_) for @pts;
    return $x . "</trkseg></trk></gpx>\n";
}

# 31 points north along a meridian, 100 m apart, climbing
my @line = map { [45 + $_ * 0.0008993, 7.6, 240 + $_] } 0 .. 30;
# a square loop of about 4 x 500 m whose ends meet
my @loop = ((map { [45 + $_ * 0.0009, 7.6, 300] } 0 .. 5),
    (map { [45.0045, 7.6 + $_ * 0.00127, 300] } 1 .. 5),
    (map { [45.0045 - $_ * 0.0009, 7.60635, 300] } 1 .. 5),
    (map { [45, 7.60635 - $_ * 0.00127, 300] } 1 .. 5));

my $start_at = now_ms() + 3600_000;
my %race = (name => 'Col du Test', start_at => $start_at,
    public => JSON::PP::true);

sub create {
    my (%body) = @_;
    return call(POST => '/api/races', token => $org->{token},
        json => { %race, %body });
}


# every bad course: 400 bad_course, named; nothing sent, nothing stored

my $many = '{"type":"LineString","coordinates":['
    . join(',', map { sprintf('[7.%05d,45.%05d]', $_ % 100000,
        int($_ / 7) % 100000) } 0 .. 200_000) . ']}';

my @bad = (
    [ 'truncated XML', gpx(@line) =~ s/<\/trk>.*//sr, qr/^not XML/ ],
    [ 'a GPX without points',
      '<?xml version="1.0"?><gpx version="1.1" '
      . 'xmlns="http://www.topografix.com/GPX/1/1"></gpx>',
      qr/^no points/ ],
    [ 'a latitude of 95', gpx([95, 7.6, 0], [45, 7.6, 0]),
      qr/out of range/ ],
    [ 'one point only', gpx([45, 7.6, 0]), qr/two distinct points|no points/ ],
    [ 'an external entity',
      qq{<?xml version="1.0"?><!DOCTYPE gpx [}
      . qq{<!ENTITY x SYSTEM "file:///etc/passwd">]>}
      . qq{<gpx version="1.1" xmlns="http://www.topografix.com/GPX/1/1">}
      . qq{<trk><name>&x;</name></trk></gpx>},
      qr/./ ],
    [ 'a GeoJSON Point', { type => 'Point', coordinates => [7.6, 45] },
      qr/^not GeoJSON/ ],
    [ 'a GeoJSON longitude of 200',
      { type => 'LineString', coordinates => [[200, 45], [7.6, 45.1]] },
      qr/out of range|position/ ],
    [ 'too many points', $many, qr/^too many points/, 'raw' ],
);

for my $b (@bad) {
    my ($what, $course, $re, $raw) = @$b;
    if ($raw) {
        my $body = $json->encode({ %race, course => 'X' });
        $body =~ s/"X"/$course/;
        ($st, $d) = call(POST => '/api/races', token => $org->{token},
            raw => $body, headers => { 'Content-Type' => 'application/json' });
    } else {
        ($st, $d) = create(course => $course);
    }
    is($st, 400, "$what: 400");
    is(error_code($d), 'bad_course', "$what: bad_course");
    like($d->{error}{message} || '', $re, "$what: the message says why")
        or diag($json->encode($d));
}

($st, $d) = create(course => gpx(@line), laps => 3);
is("$st " . error_code($d), '400 bad_course', 'laps on an open course: 400');
like($d->{error}{message}, qr/open course/, 'and it says so');

($st, $d) = create(course => gpx(@line),
    checkpoints => [ { name => 'Far', dist_m => 99_000 } ]);
is("$st " . error_code($d), '400 bad_course',
    'a checkpoint past the finish: 400 bad_course');

# the body's shape
for my $c (
    [ 'no course', { %race, course => undef }, qr/course/ ],
    [ 'a course of a number', { %race, course => 5 }, qr/"course"/ ],
    [ 'an empty course', { %race, course => '' }, qr/empty/ ],
    [ 'no name', { start_at => $start_at, public => JSON::PP::true,
        course => gpx(@line) }, qr/"name" is required/ ],
    [ 'start_at in seconds', { %race, start_at => 1700000000,
        course => gpx(@line) }, qr/"start_at"/ ],
    [ 'an unknown field', { %race, course => gpx(@line), colour => 'red' },
      qr/unknown field "colour"/ ],
) {
    my ($what, $body, $re) = @$c;
    delete $body->{course} unless defined $body->{course};
    ($st, $d) = call(POST => '/api/races', token => $org->{token},
        json => $body);
    is("$st " . error_code($d), '400 bad_json', "$what: 400 bad_json");
    like($d->{error}{message} || '', $re, "$what: named");
}

($st, $d) = call(POST => '/api/races', token => $org->{token},
    raw => '{"name":', headers => { 'Content-Type' => 'application/json' });
is("$st " . error_code($d), '400 bad_json', 'broken JSON: 400 bad_json');

# over race_api_course_max_size: told before the body is read
($st, $d) = call(POST => '/api/races', token => $org->{token},
    raw => '{"course":"' . ('x' x (4 * 1024 * 1024 + 10)) . '"}',
    headers => { 'Content-Type' => 'application/json' });
is("$st " . error_code($d), '413 too_large',
    'a body over race_api_course_max_size: 413 too_large');

# who may create
($st, $d) = call(POST => '/api/races', json => { %race,
    course => gpx(@line) });
is("$st " . error_code($d), '401 missing_token', 'anonymous: 401');
($st, $d) = call(POST => '/api/races', token => $spec->{token},
    json => { %race, course => gpx(@line) });
is("$st " . error_code($d), '403 forbidden', 'a spectator: 403');

is(redis('KEYS', 'race:race:*'), "*0\r\n",
    'after every refusal: no race in Redis');
is(race_commands(), 0, 'and no race command in Kafka');

$t->done;
