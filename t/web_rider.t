#!/usr/bin/perl

# The rider page in a phone's browser (Debian's chromium, 360x740),
# against the real stack: an organizer makes a race from the test loop,
# enters a rider and starts it; the rider opens the join link, starts
# tracking and moves along the loop, and sees every fix acked; then the
# test cuts the /ride socket and the network: the fixes wait in
# IndexedDB, through a reload served by the service worker; the
# connection is back, the backlog goes (in batches small enough for
# the server's message limit) and nothing is lost: MongoDB
# holds every seq the page made, once.  Then the organizer takes the
# rider off the race: the page says the link was revoked and keeps the
# fixes it can no longer send.

use strict;
use warnings;

use lib 't/lib';
use HTTP::Tiny;
use JSON::PP;
use Test::More;
use Race::Test;
use Race::Util;
use Race::Platform;
use Race::Web;

my $t = Race::Test->new;
# a small message limit, so the backlog after the dead zone (~9 fixes,
# ~90 bytes each) is over it in one batch: the server closes 1009 and
# the page must send smaller batches, as against a server whose limit
# is below the page's own cap of a batch
my %web = Race::Web::platform($t);
$web{http} .= "    race_ws_max_message 512;\n";
my $p = Race::Platform->start($t, accounts => 1, %web);
my $port = $p->port;
my $ua = HTTP::Tiny->new(timeout => 30);

sub call {
    my ($method, $path, %a) = @_;
    return api_call($ua, $method, "http://127.0.0.1:$port$path", %a);
}

my ($admin, $org) = Race::Web::organizer($t, $p, \&call);
my $gpx = $t->read_file($t->root . '/t/web/loop.gpx');
my @loop = map { [$1 + 0, $2 + 0] }
    $gpx =~ /<trkpt\s+lat="([-\d.]+)"\s+lon="([-\d.]+)"/g;
cmp_ok(scalar @loop, '>=', 10, 'the loop has points to ride along');

my ($st, $d) = call(POST => '/api/races', token => $org->{token},
    json => { name => 'Giro del Telefono', start_at => now_ms() + 60_000,
        public => JSON::PP::true, course => $gpx });
is($st, 201, 'the race') or diag(explain $d);
my $race = $d->{race}{id};

($st, $d) = call(POST => "/api/races/$race/riders", token => $org->{token},
    json => { name => 'Rita Rider', bib => '7' });
is($st, 201, 'the rider') or diag(explain $d);
my $rider = $d->{rider}{id};
my $token = $d->{token};
$t->secret($token);

($st) = call(POST => "/api/races/$race/start", token => $org->{token},
    json => {});
is($st, 200, 'the race is live');

# the service worker is served as a script, never kept by caches
my $res = $ua->get("http://127.0.0.1:$port/sw.js");
is($res->{status}, 200, '/sw.js is there');
like($res->{headers}{'content-type'} // '', qr/javascript/,
    'served as JavaScript');

my $r = Race::Web::browser($t, 'rider.mjs', {
    base => "http://127.0.0.1:$port",
    token => $token,
    race => $race,
    rider => $rider,
    organizer => $org->{token},
    loop => \@loop,
});

# nothing lost: every seq the page made is in MongoDB, once
my @seqs = @{$r->{seqs} || []};
cmp_ok(scalar @seqs, '>=', 12, 'the page made fixes ('
    . scalar(@seqs) . ')');
my $filter = encode_json({ race => $race, rider => $rider });
my $stored;
ok(wait_for(sub {
    $stored = $p->mongo_count($filter);
    return $stored eq scalar @seqs;
}, 60), 'MongoDB has as many fixes as the page made')
    or diag("stored $stored, made " . scalar @seqs);

my %have = map { /:(\d+)\s*$/ ? ($1 => 1) : () }
    split /\n/, $p->mongo('ids', $filter);
my @lost = grep { !$have{$_} } @seqs;
is(scalar @lost, 0, 'every seq the page made is stored')
    or diag("lost: @lost");

my @offline = @{$r->{offline_seqs} || []};
cmp_ok(scalar @offline, '>=', 4, 'some were made with the socket cut');
is(scalar(grep { !$have{$_} } @offline), 0,
    'those made offline, kept through a reload, are stored too');

$t->done;
