#!/usr/bin/perl

# The web client's accounts and race list, in Debian's chromium against
# the real stack: a visitor signs up, sees who is logged in and the
# role, logs out and in again; the list has live, upcoming and past
# tabs and a search; an organizer sees "Organize"; a bad password says
# why.  Screenshots of the list at 360 and 1280 px.

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
my $gpx = $t->read_file($t->root . '/t/web/loop.gpx');

# two upcoming races and one live, made through the API
my %id;
for my $name ('Coppa Collina', 'Giro del Parco', 'Notturna') {
    my ($st, $d) = call(POST => '/api/races', token => $org->{token},
        json => { name => $name, start_at => now_ms() + 86_400_000,
            public => JSON::PP::true, course => $gpx });
    is($st, 201, "the race $name") or diag(explain $d);
    $id{$name} = $d->{race}{id};
}
my ($st) = call(POST => "/api/races/$id{Notturna}/start",
    token => $org->{token}, json => {});
is($st, 200, 'Notturna is live');

# the pages: index.html is never cached, the hashed assets are
my $res = $ua->get("http://127.0.0.1:$port/races/$id{Notturna}");
is($res->{status}, 200, 'a page of the app is index.html');
like($res->{headers}{'cache-control'} // '', qr/no-cache/,
    'index.html is asked for again each time');
my ($asset) = $res->{content} =~ m{src="(/assets/[^"]+\.js)"};
$res = $ua->get("http://127.0.0.1:$port" . ($asset // '/none'));
is($res->{status}, 200, 'its script');
like($res->{headers}{'content-type'} // '', qr/javascript/,
    'served as JavaScript');
like($res->{headers}{'cache-control'} // '', qr/max-age=\d{8,}/,
    'a hashed asset is kept');
$res = $ua->get("http://127.0.0.1:$port$asset",
    { headers => { 'Accept-Encoding' => 'gzip' } });
is($res->{headers}{'content-encoding'} // '', 'gzip',
    'and sent compressed to a browser that takes it');
$res = $ua->get("http://127.0.0.1:$port/manifest.webmanifest");
like($res->{headers}{'content-type'} // '', qr{^application/manifest\+json},
    'the manifest, with its type');
$res = $ua->get("http://127.0.0.1:$port/api/races",
    { headers => { 'Accept-Encoding' => 'gzip' } });
ok(!$res->{headers}{'content-encoding'}, 'the API is never compressed');

Race::Web::browser($t, 'accounts.mjs', {
    base => "http://127.0.0.1:$port",
    organizer => { email => $org->{email}, password => $org->{password} },
    races => \%id,
});

$t->done;
