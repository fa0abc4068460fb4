#!/usr/bin/perl

# The results of races through the API: GET /api/races/{id}/results
# (JSON) and results.csv serve what race-tracker wrote into Redis when
# the race finished (the private race's are written here by the test),
# 404 no_results until then; a rider's track.gpx comes from the fixes in
# MongoDB through race-accounts (race_track), valid GPX 1.1; a private
# race's results and tracks to its owner, admins and its links only;
# /api/me/results lists the races a user is entered in, with their row.

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use HTTP::Tiny;
use JSON::PP;
use Race::Test;
use Race::Util;
use Race::Platform;
use Race::RESP;
use Race::WS;

my $t = Race::Test->new;
my $p = Race::Platform->start($t, accounts => 1);
my $port = $p->port;
my $redis_port = $p->{redis_port};
my $json = JSON::PP->new->canonical;
my $ua = HTTP::Tiny->new(timeout => 60);

sub call {
    my ($method, $path, %a) = @_;
    return api_call($ua, $method, "http://127.0.0.1:$port$path", %a);
}

sub rcmd { Race::RESP::resp_command($redis_port, @_) }

# results made again (a reload of the finished race) differ in this only
sub without_computed { my %r = %{$_[0]}; delete $r{computed}; \%r }

sub signup { api_signup(\&call, @_) }
sub login { api_login(\&call, @_) }

sub ok_call {
    my ($want, $what, @args) = @_;
    my ($st, $d, $res) = call(@args);
    is($st, $want, $what) or diag($res->{content});
    return $d;
}


# an admin, an organizer, Sam who rides, Zed who watches

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
ok_call(200, 'Olga is made an organizer', POST =>
    "/api/admin/users/$org->{id}/role", token => $admin->{token},
    json => { role => 'organizer' });
$org->{token} = login($org);
my $sam = signup('Sam');
my $zed = signup('Zed');


# two races on a 3 km climb, a public one and a private one; Sam rides
# both (as Ann), Bob the public one

my $gpx = qq{<?xml version="1.0"?><gpx version="1.1" creator="t" }
    . qq{xmlns="http://www.topografix.com/GPX/1/1"><trk><trkseg>}
    . join('', map { sprintf('<trkpt lat="%.6f" lon="%.6f"><ele>%d</ele>'
        . '</trkpt>', 45 + $_ * 0.0009, 7.6 + ($_ % 2) * 0.0002, 240 + $_) }
        0 .. 30)
    . '</trkseg></trk></gpx>';

sub race {
    my (%a) = @_;
    my $d = ok_call(201, "the race $a{name}", POST => '/api/races',
        token => $org->{token}, json => { start_at => now_ms() + 600_000,
            public => JSON::PP::true, course => $gpx, %a });
    return $d->{race}{id};
}

sub rider {
    my ($race, %a) = @_;
    my $d = ok_call(201, "$a{name} entered", POST => "/api/races/$race/riders",
        token => $org->{token}, json => \%a);
    return ($d->{rider}{id}, $d->{token});
}

my $pub = race(name => 'Open');
my $priv = race(name => 'Closed', public => JSON::PP::false);
my ($ann, $ann_token) = rider($pub, name => 'Ann', bib => '1',
    user_id => $sam->{id});
my ($bob) = rider($pub, name => 'Bob', bib => '2');
my ($ann2) = rider($priv, name => 'Ann', bib => '1', user_id => $sam->{id});

# Ann rides: 5 fixes up the course, stored by race-tracker
my $ws = Race::WS->start(port => $port, path => '/ride',
    headers => ['Authorization' => "Bearer $ann_token"]);
my $t0 = now_ms();
for my $i (1 .. 5) {
    $ws->send_frame(Race::WS::TEXT, $json->encode({ type => 'fix',
        seq => $i, t => $t0 + $i * 1000, lat => 45 + $i * 0.0009,
        lon => 7.6, ele => 240 + $i }));
    like(read_until($ws, qr/"ack"/, 30) || '', qr/"seq":$i\b/, "fix $i acked");
}
$ws->disconnect;
ok(wait_for(sub { $p->mongo_count(qq({"race":"$pub","rider":"$ann"})) == 5 },
    30), 'her 5 fixes are in MongoDB');

ok_call(200, 'the public race starts', POST => "/api/races/$pub/start",
    token => $org->{token}, json => {});
ok_call(200, 'and finishes', POST => "/api/races/$pub/finish",
    token => $org->{token}, json => {});

my $d = ok_call(200, 'anyone lists the finished races',
    GET => '/api/races?status=finished');
is_deeply([ map { $_->{id} } @{$d->{races}} ], [ $pub ],
    'the finished public race is there');


# results: none until race-tracker makes them when the race finishes
# (a private race that is not finished has none)

for my $path ("/api/races/$priv/results", "/api/races/$priv/results.csv") {
    my ($st, $e) = call(GET => $path, token => $org->{token});
    is("$st " . error_code($e), '404 no_results', "$path before: 404");
}

ok(wait_for(sub { defined rcmd('GET', "race:race:$pub:results.csv") }, 30),
    'race-tracker made the results of the finished race');
my $results_json = rcmd('GET', "race:race:$pub:results");
my $results = $json->decode($results_json);
my $csv = rcmd('GET', "race:race:$pub:results.csv");
is_deeply([ map { $_->{rider} } @{$results->{riders}} ], [ $ann, $bob ],
    'with both riders, Ann first');

my ($st, $r, $res) = call(GET => "/api/races/$pub/results");
is($st, 200, 'the results: 200');
is($res->{headers}{'content-type'}, 'application/json', 'as JSON');
is_deeply(without_computed($json->decode($res->{content})),
    without_computed($results), 'as race-tracker wrote them');

($st, $r, $res) = call(GET => "/api/races/$pub/results.csv");
is($st, 200, 'the CSV: 200');
is($res->{headers}{'content-type'}, 'text/csv; charset=utf-8',
    'text/csv in UTF-8');
is($res->{headers}{'content-disposition'},
    qq{attachment; filename="$pub-results.csv"}, 'a file to save');
is($res->{content}, $csv, 'as race-tracker wrote it');


# a rider's track, GPX 1.1

my ($xmllint) = grep { -x } map { "$_/xmllint" } split /:/, $ENV{PATH};
my $xsd = $t->root . '/t/gpx/gpx11_track.xsd';

($st, $r, $res) = call(GET => "/api/races/$pub/riders/$ann/track.gpx");
is($st, 200, "Ann's track: 200") or diag($res->{content});
is($res->{headers}{'content-type'}, 'application/gpx+xml',
    'application/gpx+xml');
is($res->{headers}{'content-disposition'},
    qq{attachment; filename="$pub-$ann.gpx"}, 'a file to save');
my $track = $res->{content};
my @pts = $track =~ /<trkpt /g;
is(scalar(@pts), 5, 'her 5 fixes');
like($track, qr/<trkpt lat="45\.00090*"[^>]*lon="7\.60*"/,
    'the first in order')
    or diag($track);
{
    # build.sh installs xmllint (libxml2-utils): its absence is a failure
    ok($xmllint, 'xmllint is there') or diag('run ./build.sh test');
    my $file = $t->write_file('ann.gpx', $track);
    my $o = $xmllint ? `$xmllint --noout --schema $xsd $file 2>&1` : '';
    is($xmllint ? $? >> 8 : -1, 0, 'valid against the GPX 1.1 schema')
        or diag($o);
}

($st, $r, $res) = call(GET => "/api/races/$pub/riders/$bob/track.gpx");
is($st, 200, "Bob's track, without fixes: 200");
is(scalar(() = $res->{content} =~ /<trkpt /g), 0, 'no points');
($st, $r) = call(GET => "/api/races/$pub/riders/zzzzzzzz/track.gpx");
is("$st " . error_code($r), '404 no_rider', 'no such rider: 404');
($st, $r) = call(POST => "/api/races/$pub/riders/$ann/track.gpx",
    json => {});
is($st, 405, 'a track is only read: 405');


# the private race: its owner, admins and its links only

rcmd('SET', "race:race:$priv:results", $results_json);
rcmd('SET', "race:race:$priv:results.csv", $csv);
my $link = ok_call(201, 'a link of the private race',
    POST => "/api/races/$priv/links", token => $org->{token},
    json => { ttl_s => 600 })->{token};

for my $path ("/api/races/$priv/results", "/api/races/$priv/results.csv",
    "/api/races/$priv/riders/$ann2/track.gpx")
{
    for my $who ([ 'anyone', undef ], [ 'a spectator', $zed->{token} ],
        [ 'its rider', $sam->{token} ])
    {
        ($st, $r) = call(GET => $path, token => $who->[1]);
        is("$st " . error_code($r), '404 not_found', "$path, $who->[0]: 404");
    }
    for my $who ([ 'its owner', $org->{token} ],
        [ 'an admin', $admin->{token} ], [ 'its link', $link ])
    {
        ($st, $r, $res) = call(GET => $path, token => $who->[1]);
        is($st, 200, "$path, $who->[0]: 200") or diag($res->{content});
    }
}


# /api/me/results: Sam's two races, latest first, with her row

($st, $r) = call(GET => '/api/me/results');
is("$st " . error_code($r), '401 missing_token', 'me/results: log in first');
$d = ok_call(200, "Sam's results", GET => '/api/me/results',
    token => $sam->{token});
is_deeply([ map { $_->{race}{id} } @{$d->{races}} ], [ $priv, $pub ],
    'both races, the latest start first');
my ($mine) = grep { $_->{race}{id} eq $pub } @{$d->{races}};
is($mine->{race}{status}, 'finished', 'the race and its status');
is($mine->{rider}{id}, $ann, 'her entry');
is_deeply($mine->{result}, (grep { $_->{rider} eq $ann }
    @{$results->{riders}})[0], 'her row of the results');
($mine) = grep { $_->{race}{id} eq $priv } @{$d->{races}};
is($mine->{rider}{id}, $ann2, 'her entry in the private race');
is($mine->{result}, undef, 'no row: those results have none of hers');
$d = ok_call(200, "Zed's", GET => '/api/me/results', token => $zed->{token});
is_deeply($d->{races}, [], 'none');

$t->done;
