#!/usr/bin/perl

# The web client's past race and "My races", in Debian's chromium
# against the real stack: an organizer makes a race on a short loop
# with a checkpoint, enters three riders (one with the account of a
# rider who signed up), race-sim rides them to the line, the organizer
# finishes the race and race-tracker computes the results.  The browser
# then shows the results table in rank order, the selected rider's
# speed and elevation charts, the race flow with a line per rider, the
# replay, the CSV and a GPX to download; the rider finds the race and
# its rank in My races.  Screenshots at 360 and 1280 px.

use strict;
use warnings;

use lib 't/lib';
use HTTP::Tiny;
use Test::More;
use Race::Test;
use Race::Util;
use Race::Platform;
use Race::Web;

my $t = Race::Test->new;
my $p = Race::Platform->start($t, accounts => 1, Race::Web::platform($t));
my $port = $p->port;
my $ua = HTTP::Tiny->new(timeout => 30);

sub call {
    my ($method, $path, %a) = @_;
    return api_call($ua, $method, "http://127.0.0.1:$port$path", %a);
}

my ($admin, $org) = Race::Web::organizer($t, $p, \&call);
my $rita = api_signup(\&call, 'Rita');

# a 440 m loop with a climb: at 15 m/s a race of about half a minute
my $course = $t->root . '/t/web/short.gpx';
my ($st, $d) = call(POST => '/api/races', token => $org->{token},
    json => { name => 'Piazza Criterium', start_at => now_ms() + 3_600_000,
        public => JSON::PP::true, course => $t->read_file($course),
        checkpoints => [ { name => 'Top', dist_m => 220 } ] });
is($st, 201, 'the race') or diag(explain $d);
my $race = $d->{race}{id} // 'none';

my $tokens = '';
my %rider;
for my $r ([Ann => 1, $rita->{id}], [Bob => 2], [Cy => 3]) {
    my ($name, $bib, $user) = @$r;
    ($st, $d) = call(POST => "/api/races/$race/riders",
        token => $org->{token}, json => { name => $name, bib => "$bib",
            $user ? (user_id => $user) : () });
    is($st, 201, "$name entered") or diag(explain $d);
    $rider{$name} = $d->{rider}{id} // $name;
    $tokens .= "$race $rider{$name} " . ($d->{token} // '') . "\n";
}

# a private race at the same time, watched with a spectator link
($st, $d) = call(POST => '/api/races', token => $org->{token},
    json => { name => 'Cortile Privato', start_at => now_ms() + 3_600_000,
        public => JSON::PP::false, course => $t->read_file($course) });
is($st, 201, 'a private race') or diag(explain $d);
my $priv = $d->{race}{id} // 'none';
for my $r ([Dee => 4], [Eve => 5]) {
    ($st, $d) = call(POST => "/api/races/$priv/riders",
        token => $org->{token}, json => { name => $r->[0], bib => "$r->[1]" });
    is($st, 201, "$r->[0] entered in the private race") or diag(explain $d);
    $tokens .= "$priv " . ($d->{rider}{id} // '') . ' '
        . ($d->{token} // '') . "\n";
}
($st, $d) = call(POST => "/api/races/$priv/links", token => $org->{token},
    json => {});
is($st, 201, 'a spectator link of the private race') or diag(explain $d);
my $link = $d->{token} // '';

my $file = $t->write_file('tokens', $tokens);

for my $id ($race, $priv) {
    ($st, $d) = call(POST => "/api/races/$id/start", token => $org->{token},
        json => {});
    is("$st " . ($d->{race}{status} // ''), '200 live', "race $id starts");
}

my $sim = $p->sim('--url', "ws://127.0.0.1:$port/ride", '--tokens', $file,
    '--course', $course, '--speed', 15, '--speed-spread', 0.2,
    '--noise', 3, '--seed', 7, '--max-seconds', 120);
is($sim->{rc}, 0, 'race-sim rode the five to the line')
    or diag($sim->{output});

# every fix stored before the finish, so that the results have them all
my $acked = $sim->{acked} // -1;
ok(wait_for(sub { $p->mongo_count('{}') eq $acked }, 30),
    "the $acked fixes are in MongoDB")
    or diag($p->mongo_count('{}'));

for my $id ($race, $priv) {
    ($st, $d) = call(POST => "/api/races/$id/finish",
        token => $org->{token}, json => {});
    is("$st " . ($d->{race}{status} // ''), '200 finished',
        "race $id finishes");
}
ok(wait_for(sub {
    (call(GET => "/api/races/$priv/results", token => $org->{token}))[0]
        == 200 }, 60), 'the private race\'s results are computed');

my $results;
ok(wait_for(sub {
    my ($s, $r) = call(GET => "/api/races/$race/results");
    $results = $r if $s == 200;
    return $s == 200;
}, 60), 'the results are computed');
my @order = map { $_->{rider} } @{$results->{riders} || []};
is(scalar(@order), 3, 'with three riders');
is(scalar(grep { defined $_->{finish_s} } @{$results->{riders} || []}), 3,
    'all of them finishers');

Race::Web::browser($t, 'results.mjs', {
    base => "http://127.0.0.1:$port",
    race => $race,
    order => \@order,
    names => { reverse %rider },
    rider => { email => $rita->{email}, password => $rita->{password},
        id => $rider{Ann} },
    private => { race => $priv, token => $link },
    rank => (map { $_->{rank} } grep { $_->{rider} eq $rider{Ann} }
        @{$results->{riders} || []})[0],
});

$t->done;
