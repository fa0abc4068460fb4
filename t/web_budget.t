#!/usr/bin/perl

# What the live page weighs: a phone opening a live race downloads
# under 150 KB gzipped before the map's own chunk, which comes after.
# Prints every file's size (prove -v) for the README's figures.

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
my ($st, $d) = call(POST => '/api/races', token => $org->{token},
    json => { name => 'Budget', start_at => now_ms() + 60_000,
        public => JSON::PP::true,
        course => $t->read_file($t->root . '/t/web/loop.gpx') });
is($st, 201, 'a race');
my $race = $d->{race}{id};
($st) = call(POST => "/api/races/$race/start", token => $org->{token},
    json => {});
is($st, 200, 'live');

my $r = Race::Web::browser($t, 'budget.mjs', {
    base => "http://127.0.0.1:$port", race => $race });
diag(sprintf 'live page: first screen %.1f KB gzipped, map chunk %.1f KB',
    ($r->{first} // 0) / 1024, ($r->{map} // 0) / 1024);

$t->done;
