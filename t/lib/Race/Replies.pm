package Race::Replies;

# race-accounts' replies as a test hears them on Redis: a subscription
# of its own to the reply channels and to any other channels; replies by
# request id, each with the channel it came on and its text, the other
# channels' messages in the order they came.  t/accounts.t and
# t/races_worker.t used to carry a copy each.

use strict;
use warnings;

use JSON::PP;
use Time::HiRes qw(time);

use Race::RESP;

my $json = JSON::PP->new->canonical->utf8;

# Nothing is subscribed before subscribe().  The replies by request id
# and the other channels' messages go into the hashes given, if a test
# looks at them itself.
sub new {
    my ($class, $rport, $replies, $others, $by_req, $by_channel) = @_;
    return bless { port => $rport, reply => { map { $_ => 1 } @$replies },
        channels => [@$replies, @{$others || []}],
        replies => $by_req || {}, heard => $by_channel || {} }, $class;
}

# (again) on a connection of its own; what was heard is kept
sub subscribe {
    my ($self) = @_;
    my $sub = $self->{sub} = resp_conn($self->{port});
    resp_send($sub, 'SUBSCRIBE', @{$self->{channels}});
    for (@{$self->{channels}}) {
        my $r = resp_read($sub, time + 5);
        die "subscribe failed\n" unless ref $r && $r->[0] eq 'subscribe';
    }
}

# reads what is published within secs
sub collect {
    my ($self, $secs) = @_;
    my $sub = $self->{sub};
    my $end = time + $secs;
    while (length $sub->{buf} || resp_fill($sub, $end)) {
        my $r = eval { resp_read($sub, time + 5) } or last;
        next unless $r->[0] eq 'message';
        if (!$self->{reply}{$r->[1]}) {
            push @{$self->{heard}{$r->[1]}}, $r->[2];
            next;
        }
        my $m = eval { $json->decode($r->[2]) };
        my $req = $m && defined $m->{req} ? $m->{req} : '';
        push @{$self->{replies}{$req}}, { %{$m || { raw => $r->[2] }},
            channel => $r->[1], text => $r->[2] };
    }
}

# the replies to a request once n (1) of them arrived, or secs (30) passed
sub replies {
    my ($self, $req, $n, $secs) = @_;
    $n ||= 1;
    my $end = time + ($secs || 30);
    while (time < $end && @{$self->{replies}{$req} || []} < $n) {
        $self->collect(0.2);
    }
    return @{$self->{replies}{$req} || []};
}

sub reply {
    my ($self, $req, $secs) = @_;
    return ($self->replies($req, 1, $secs))[0] || {};
}

# waits until channel has carried msg, for secs (20) at most
sub heard {
    my ($self, $channel, $msg, $secs) = @_;
    my $end = time + ($secs || 20);
    while (time < $end) {
        return 1 if grep { $_ eq $msg } @{$self->{heard}{$channel} || []};
        $self->collect(0.2);
    }
    return 0;
}

1;
