#!/usr/bin/perl

# Races through the API.  First what the module decides before
# race-accounts is asked: every bad course gets a 400 bad_course naming
# what is wrong (not XML, no points, out of range, too many points, an
# external entity, laps on an open course), every bad body a 400
# bad_json naming the field, too large a body 413, and a caller who may
# not create 401 or 403; then nothing went to Kafka and nothing is in
# Redis.  Then the flows with race-accounts applying them: create (GPX,
# GeoJSON, 20,000 points), list, read, course, edit, riders and their
# tokens on /ride, links on /live, start, finish, and race-accounts'
# refusals as HTTP errors.

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
use Race::RESP;

my $t = Race::Test->new;
my $p = Race::Platform->start($t, accounts => 1, no_tracker => 1,
    http => <<'EOF', locations => <<'EOF');
    client_max_body_size 8m;
    client_body_buffer_size 4m;
    race_api_course_max_size 4m;
EOF
        # no ride once the race has finished
        location = /ride/now {
            race_ingest;
            race_ride_after_finish 0;
        }
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

# a whole reply: a scalar, an array ref, undef for nil
sub rcmd { Race::RESP::resp_command($redis_port, @_) }

# the race commands race-accounts' topic holds
sub race_commands {
    my $out = `$ENV{RACE_BUILD}/t/kafka_dump $p->{kafka} race.accounts 2>&1`;
    return scalar(grep { /"op":"race_/ } split /\n/, $out);
}

sub signup { api_signup(\&call, @_) }
sub login { api_login(\&call, @_) }


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

# a chunked body has no Content-Length to refuse early: its own length
# is, before anything parses it (anonymous here: before the login too)
for my $case ([ '/api/races/aaaaaaaaaaaa/riders', 16 * 1024, '16k' ],
    [ '/api/races', 4 * 1024 * 1024, 'race_api_course_max_size' ])
{
    my ($path, $max, $what) = @$case;
    my @chunks = ('{"name":"' . ('x' x $max) . '"}');
    ($st, $d) = call(POST => $path, raw => sub { shift @chunks },
        headers => { 'Content-Type' => 'application/json' });
    is("$st " . error_code($d), '413 too_large',
        "a chunked body over $what to $path: 413 too_large");
}

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


# The flows, race-accounts applying them: create from GPX and GeoJSON
# (stored: MongoDB and Redis), list, read, the course, edit, riders and
# their tokens on /ride, links on /live, start and finish.

sub ws_status {
    my ($path, $token) = @_;
    my $ws = Race::WS->new(port => $port);
    my $res = $ws->handshake(path => $path,
        $token ? (headers => ['Authorization' => "Bearer $token"]) : ());
    $ws->disconnect;
    return $res ? $res->{status} : 0;
}

my $fseq = 0;

sub fix_acked {
    my ($token, $path) = @_;
    my $ws = eval { Race::WS->start(port => $port, path => $path || '/ride',
        headers => ['Authorization' => "Bearer $token"]) };
    return "no upgrade: $@" unless $ws;
    my $s = ++$fseq;
    $ws->send_frame(Race::WS::TEXT, '{"type":"fix","seq":' . $s
        . ',"t":' . now_ms() . ',"lat":45.001,"lon":7.6}');
    my $got = read_until($ws, qr/"ack"/, 30) || '';
    $ws->disconnect;
    return $got eq qq({"type":"ack","seq":$s}) ? 'acked' : "got '$got'";
}

sub race_keys {
    my ($id) = @_;
    return redis('EXISTS', "race:race:$id", "race:race:$id:meta",
        "race:race:$id:course");
}

($st, $d) = create(course => gpx(@line),
    checkpoints => [ { name => 'Half', dist_m => 1500 } ]);
is($st, 201, 'a race from a GPX: 201') or diag($json->encode($d));
my $gpx_race = $d->{race} || {};
my $id = $gpx_race->{id} || '';
like($id, qr/^[a-z0-9]{12}$/, 'it has an id of 12 characters');
is($gpx_race->{status}, 'scheduled', 'it is scheduled');
is($gpx_race->{owner}, $org->{id}, 'its owner is who created it');
is($gpx_race->{rev}, 1, 'at rev 1');
is($gpx_race->{course}{laps}, 1, 'the course: one lap');
ok(abs($gpx_race->{course}{length_m} - 3000) < 5, 'of 3 km')
    or diag($gpx_race->{course}{length_m});
is($gpx_race->{course}{ele}, JSON::PP::true, 'with elevations');
is_deeply($gpx_race->{course}{checkpoints},
    [ { name => 'Half', dist_m => 1500 } ], 'and its checkpoint');
is(race_keys($id), ":3\r\n", 'Redis has the race, its meta, its course');
is(rcmd('ZSCORE', 'race:races:scheduled', $id), $start_at,
    'it is listed as scheduled, scored by start_at');
is($p->mongo_count_in('races', qq({"_id":"$id"})), 1, 'MongoDB has it');
is($p->mongo_count_in('courses', qq({"_id":"$id"})), 1, 'and its course');

# the same line as GeoJSON, a loop of 3 laps, private
($st, $d) = create(name => 'Ring', public => JSON::PP::false, laps => 3,
    course => { type => 'Feature', properties => {},
        geometry => { type => 'LineString',
            coordinates => [ map { [ $_->[1], $_->[0], $_->[2] ] } @loop ],
        } });
is($st, 201, 'a private loop of 3 laps from a GeoJSON: 201')
    or diag($json->encode($d));
my $priv = $d->{race}{id} || '';
is($d->{race}{course}{laps}, 3, 'of 3 laps');
ok(abs($d->{race}{course}{length_m} - 3 * $d->{race}{course}{lap_length_m})
    < 1, 'its length is 3 laps');
is(race_keys($priv), ":3\r\n", 'Redis has it');
is(redis('ZSCORE', 'race:races:scheduled', $priv), "\$-1\r\n",
    'a private race is in no public list');
like(redis('ZSCORE', "race:races:owner:$org->{id}", $priv), qr/^\$/,
    "but in its owner's");

# the list: paged, soonest first
my @ids = ($id);
for my $k (1 .. 3) {
    ($st, $d) = create(name => "Later $k", start_at => $start_at + $k * 1000,
        course => gpx(@line));
    is($st, 201, "race $k of a list");
    push @ids, $d->{race}{id};
}

($st, $d) = call(GET => '/api/races?status=scheduled&limit=2');
is($st, 200, 'the scheduled races, 2 a page');
is($d->{total}, 4, 'of 4 public ones');
is_deeply([ map { $_->{id} } @{$d->{races}} ], [ @ids[0, 1] ],
    'the soonest first');
is($d->{races}[0]{riders}, 0, 'a list says how many riders, not who');
($st, $d) = call(GET => '/api/races?status=scheduled&limit=2&offset=2');
is_deeply([ map { $_->{id} } @{$d->{races}} ], [ @ids[2, 3] ],
    'the next page');
($st, $d) = call(GET => '/api/races');
is("$st " . scalar(@{$d->{races} || []}), '200 0', 'no race is live yet');
($st, $d) = call(GET => '/api/races?mine=1&limit=100', token => $org->{token});
is($st, 200, 'mine=1');
is($d->{total}, 5, "the owner's 5 races, the private one too");
is($d->{races}[0]{id}, $ids[3], 'the latest first');
($st, $d) = call(GET => '/api/races?mine=1', token => $spec->{token});
is("$st $d->{total}", '200 0', 'a spectator has none');
($st, $d) = call(GET => '/api/races?mine=1');
is("$st " . error_code($d), '401 missing_token', 'mine=1 anonymous: 401');

# read: public to anyone, private to its owner and admins
($st, $d) = call(GET => "/api/races/$id");
is("$st $d->{race}{id}", "200 $id", 'anyone reads a public race');
($st, $d) = call(GET => "/api/races/$priv");
is("$st " . error_code($d), '404 not_found', 'not a private one');
($st, $d) = call(GET => "/api/races/$priv", token => $spec->{token});
is("$st " . error_code($d), '404 not_found', 'nor a spectator');
($st, $d) = call(GET => "/api/races/$priv", token => $org->{token});
is("$st $d->{race}{id}", "200 $priv", 'its owner does');
($st, $d) = call(GET => "/api/races/$priv", token => $admin->{token});
is("$st $d->{race}{id}", "200 $priv", 'an admin does');
($st, $d) = call(GET => '/api/races/zzzzzzzzzzzz');
is("$st " . error_code($d), '404 not_found', 'no such race: 404');

# the course as GeoJSON
($st, $d) = call(GET => "/api/races/$id/course");
is($st, 200, 'the course');
is($d->{type}, 'Feature', 'a GeoJSON Feature');
is($d->{geometry}{type}, 'LineString', 'of a LineString');
is(scalar(@{$d->{geometry}{coordinates}}), $gpx_race->{course}{points},
    'with its points (a straight climb: its ends)');
is_deeply($d->{geometry}{coordinates}[0], [7.6, 45, 240],
    '[lon,lat,ele]');
($st, $d) = call(GET => "/api/races/$priv/course");
is($st, 404, "a private race's course: 404 to anyone");

# edit
($st, $d) = call(PATCH => "/api/races/$id", token => $org->{token},
    json => { name => 'Col du Test II' });
is("$st $d->{race}{name} $d->{race}{rev}", '200 Col du Test II 2',
    'PATCH renames, rev 2');
like(rcmd('GET', "race:race:$id"), qr/Col du Test II/, 'Redis too');
($st, $d) = call(PATCH => "/api/races/$id", token => $org->{token},
    json => { course => gpx(@line[0 .. 20], [45.02, 7.601, 260]) });
is($st, 200, 'PATCH a new course, before the start');
ok(abs($d->{race}{course}{length_m} - 2237) < 5, 'of 2.2 km')
    or diag($json->encode($d));
($st, $d) = call(GET => "/api/races/$id/course");
is(scalar(@{$d->{geometry}{coordinates} || []}), 3, 'served at once');
($st, $d) = call(PATCH => "/api/races/$id", token => $org->{token},
    json => { course => gpx([95, 7.6, 0], [45, 7.6, 0]) });
is("$st " . error_code($d), '400 bad_course', 'a bad course: 400');
($st, $d) = call(GET => "/api/races/$id");
is("$d->{race}{rev} $d->{race}{course}{points}", '3 3', 'nothing stored');

# riders: a token that rides
($st, $d) = call(POST => "/api/races/$id/riders", token => $org->{token},
    json => { name => 'Ann', bib => '1', user_id => $spec->{id} });
is($st, 201, 'a rider entered: 201') or diag($json->encode($d));
my $ann = $d->{rider} || {};
my $ann_token = $d->{token};
like($ann->{id}, qr/^[a-z0-9]{8}$/, 'a rider id of 8 characters');
is($ann->{status}, 'entered', 'entered');
ok(!exists $ann->{jti}, "without its token's id");
is($d->{join_url}, "ws://127.0.0.1:$port/ride?access_token=$ann_token",
    'a join link, to the host and port the organizer used');
is(redis('SISMEMBER', "race:user:$spec->{id}:races", $id), ":1\r\n",
    "the race is in the user's races");
is(fix_acked($ann_token), 'acked', 'its token rides: a fix acked');

($st, $d) = call(POST => "/api/races/$id/riders", token => $org->{token},
    json => { name => 'Bob', bib => '2' });
my $bob = $d->{rider}{id};
my $bob_token = $d->{token};
is($st, 201, 'another rider');
($st, $d) = call(POST => "/api/races/$id/riders", token => $org->{token},
    json => { name => 'Cid', bib => '1' });
is("$st " . error_code($d), '409 bib_taken', 'a bib taken: 409');

($st, $d) = call(PATCH => "/api/races/$id/riders/$ann->{id}",
    token => $org->{token}, json => { status => 'dnf' });
is("$st $d->{rider}{status}", '200 dnf', 'a rider marked dnf');
($st, $d) = call(GET => "/api/races/$id");
is((grep { $_->{status} eq 'dnf' } @{$d->{race}{riders}}), 1,
    'the race says so');
($st, $d) = call(PATCH => "/api/races/$id/riders/$bob",
    token => $org->{token}, json => { bib => '1' });
is("$st " . error_code($d), '409 bib_taken', "another's bib: 409");
($st, $d) = call(PATCH => "/api/races/$id/riders/zzzzzzzz",
    token => $org->{token}, json => { status => 'dnf' });
is("$st " . error_code($d), '404 no_rider', 'no such rider: 404');

($st) = call(DELETE => "/api/races/$id/riders/$bob", token => $org->{token});
is($st, 204, 'a rider deleted: 204');
is(ws_status('/ride', $bob_token), 401, 'its token: 401 on /ride');
($st, $d) = call(GET => "/api/races/$id");
is(scalar(@{$d->{race}{riders}}), 1, 'one rider left');

# links of the private race
is(ws_status("/live/$priv"), 401, 'the private race: /live wants a token');
($st, $d) = call(POST => "/api/races/$priv/links", token => $org->{token},
    json => { ttl_s => 600 });
is($st, 201, 'a link: 201') or diag($json->encode($d));
my $link = $d->{link} || {};
my $link_token = $d->{token};
like($link->{jti}, qr/^[a-z0-9]{16}$/, 'its jti');
is($d->{live_url}, "ws://127.0.0.1:$port/live/$priv?access_token=$link_token",
    'its live URL, to the host and port the organizer used');
is(ws_status("/live/$priv", $link_token), 101, 'it opens /live');
($st, $d) = call(GET => "/api/races/$priv", token => $link_token);
is("$st $d->{race}{id}", "200 $priv", 'and reads the race');
($st, $d) = call(POST => "/api/races/$id/links", token => $org->{token},
    json => {});
is("$st " . error_code($d), '409 public_race', 'a public race: no links');
($st) = call(DELETE => "/api/races/$priv/links/$link->{jti}",
    token => $org->{token});
is($st, 204, 'the link deleted: 204');
is(ws_status("/live/$priv", $link_token), 401, '/live refuses it then');
($st, $d) = call(GET => "/api/races/$priv", token => $link_token);
is("$st " . error_code($d), '401 token_revoked', 'and so does the API');

# start, finish
($st, $d) = call(POST => "/api/races/$id/finish", token => $org->{token},
    json => {});
is("$st " . error_code($d), '409 bad_status', 'a scheduled race: no finish');
($st, $d) = call(POST => "/api/races/$id/start", token => $org->{token},
    json => {});
is("$st $d->{race}{status}", '200 live', 'started: live');
ok($d->{race}{started_at} > 0, 'with started_at');
is(rcmd('HGET', "race:race:$id:meta", 'status'), 'live',
    'its meta says live');
($st, $d) = call(GET => '/api/races');
is_deeply([ map { $_->{id} } @{$d->{races}} ], [ $id ],
    'the live list has it');
($st, $d) = call(POST => "/api/races/$id/start", token => $org->{token},
    json => {});
is("$st " . error_code($d), '409 bad_status', 'started twice: 409');
($st, $d) = call(PATCH => "/api/races/$id", token => $org->{token},
    json => { course => gpx(@line) });
is("$st " . error_code($d), '409 bad_status',
    'no new course once live: 409');
($st, $d) = call(POST => "/api/races/$id/finish", token => $org->{token},
    json => {});
is("$st $d->{race}{status}", '200 finished', 'finished');
($st, $d) = call(GET => '/api/races?status=finished');
is($d->{races}[0]{id}, $id, 'the finished list has it');
is(ws_status('/ride/now', $ann_token), 403,
    '/ride after the finish and its grace: 403');
($st, $d) = call(POST => "/api/races/$id/riders", token => $org->{token},
    json => { name => 'Late', bib => '9' });
is("$st " . error_code($d), '409 bad_status', 'no rider after the finish');

# what the module cannot know: race-accounts refuses, and the API says
# why.  Redis is made to say what MongoDB does not.
my $other = signup('Oscar');
call(POST => "/api/admin/users/$other->{id}/role",
    token => $admin->{token}, json => { role => 'organizer' });
$other->{token} = login($other);
my $doc = $json->decode(rcmd('GET', "race:race:$ids[1]"));
sub put_doc {
    my ($rid, %set) = @_;
    my $d = $json->decode(rcmd('GET', "race:race:$rid"));
    redis('SET', "race:race:$rid", $json->encode({ %$d, %set }));
}
put_doc($ids[1], owner => $other->{id});
($st, $d) = call(PATCH => "/api/races/$ids[1]", token => $other->{token},
    json => { name => 'Taken' });
is("$st " . error_code($d), '403 forbidden', 'race-accounts: not_owner, 403');
put_doc($ids[2], status => 'live');
($st, $d) = call(POST => "/api/races/$ids[2]/finish", token => $org->{token},
    json => {});
is("$st " . error_code($d), '409 bad_status',
    'race-accounts: bad_status, 409');
call(POST => "/api/races/$ids[3]/riders", token => $org->{token},
    json => { name => 'Dee', bib => '7' });
put_doc($ids[3], riders => []);
($st, $d) = call(POST => "/api/races/$ids[3]/riders", token => $org->{token},
    json => { name => 'Eve', bib => '7' });
is("$st " . error_code($d), '409 bib_taken', 'race-accounts: bib_taken, 409');
redis('SET', 'race:race:aaaaaaaaaaaa', $json->encode({ %$doc,
    id => 'aaaaaaaaaaaa' }));
($st, $d) = call(PATCH => '/api/races/aaaaaaaaaaaa', token => $org->{token},
    json => { name => 'Ghost' });
is("$st " . error_code($d), '404 not_found', 'race-accounts: no_race, 404');

# a course of 20,000 points (a zig-zag: no point can go), each as long
# as a point can be written, through the whole path: its command of
# about 700 kB through Kafka (under the 1 MB that librdkafka and the
# broker take by default), MongoDB and Redis
my @zig = map { [ (map { 0 + sprintf('%.7f', $_) } -170.1234567
    - ($_ % 2) * 0.0001111111, -60.1234567 - $_ * 0.0001234567),
    8000 + ($_ % 997) / 10 ] } 0 .. 19_999;
($st, $d) = create(name => 'Zig',
    course => { type => 'LineString', coordinates => \@zig });
is($st, 201, 'a course of 20,000 points: 201') or diag($json->encode($d));
my $zig = $d->{race}{id} || '';
is($d->{race}{course}{points}, 20_000, 'all of them kept');
my ($cmd) = grep { /"op":"race_create"/ && /\Q$zig\E/ }
    split /\n/, `$ENV{RACE_BUILD}/t/kafka_dump $p->{kafka} race.accounts 2>&1`;
ok(length($cmd || '') > 650_000, 'its command: ' . length($cmd || '')
    . ' bytes in Kafka');
($st, $d) = call(GET => "/api/races/$zig/course");
is(scalar(@{$d->{geometry}{coordinates} || []}), 20_000,
    'its course served back whole');
is_deeply($d->{geometry}{coordinates}[19_999], $zig[-1], 'to its last point')
    or diag($json->encode($d->{geometry}{coordinates}[19_999]));

$t->done;
