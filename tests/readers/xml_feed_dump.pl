#!/usr/bin/perl
# What Perl's XML::Feed reports for each feed file named on the command line, printed as one JSON
# object: {"file": {"items": [...]}} or {"file": {"error": ...}}. Debian: libxml-feed-perl.
use strict;
use warnings;
use JSON::PP;
use XML::Feed;

# XML::Atom hands out UTF-8 bytes unless told to decode; a Unicode-aware program sets this.
$XML::Atom::ForceUnicode = 1;

sub text { my ($v) = @_; return (defined $v && $v ne '') ? $v : undef }
sub instant { my ($dt) = @_; return $dt ? $dt->clone->set_time_zone('UTC')->strftime('%Y-%m-%dT%H:%M:%SZ') : undef }

sub dump_file {
    my ($path) = @_;
    my $feed = eval { XML::Feed->parse($path) };
    return { error => ($@ || XML::Feed->errstr || 'not a feed') } unless $feed;
    my @items;
    for my $entry ($feed->entries) {
        my $enclosure = $entry->enclosure;
        my $content = $entry->content && $entry->content->body;
        $content = $entry->summary && $entry->summary->body unless defined $content && $content ne '';
        push @items, {
            id           => text($entry->id),
            link         => text($entry->link),
            title        => text($entry->title),
            published    => instant($entry->issued),
            updated      => instant($entry->modified),
            author       => text($entry->author),
            categories   => [ $entry->category ],
            image        => $enclosure ? text($enclosure->url) : undef,
            image_length => $enclosure ? text($enclosure->length) : undef,
            content      => text($content),
        };
    }
    return { items => \@items };
}

my %result = map { $_ => dump_file($_) } @ARGV;
print JSON::PP->new->utf8->canonical->encode(\%result), "\n";
